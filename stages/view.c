/* attnmix-view: the interactive viewer of a run's attention maps, served on
 * 127.0.0.1 (docs/viewer.md). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view/view.h"

static const char *usage = "usage: attnmix view OUT [--port N] [--host ADDR]\n"
                           "\n"
                           "Serves the attention maps of the run in OUT (OUT/<model>/cube.h5) at\n"
                           "http://127.0.0.1:N/: pick model, pair, alpha, layer and head (or the mean\n"
                           "or standard deviation over heads, or the difference of two alphas), hover\n"
                           "for the weight and both tokens, step alpha with the arrow keys. Read-only;\n"
                           "only files inside OUT are served. Stop with Ctrl-C.\n"
                           "\n"
                           "  -p, --port N     port (default 8000; 0: any free port, printed)\n"
                           "      --host ADDR  numeric address to listen on (default 127.0.0.1;\n"
                           "                   anything else makes the maps readable by others)\n"
                           "  -h, --help       this text\n";

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static void ready(const char *url, const char *notes, void *ctx) {
    const char *out = ctx;
    if (notes && *notes) fprintf(stderr, "attnmix view: note:\n%s\n", notes);
    fprintf(stderr, "attnmix view: serving %s at %s (Ctrl-C to stop)\n", out, url);
    printf("%s\n", url);
    fflush(stdout);
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"port", required_argument, 0, 'p'}, {"host", required_argument, 0, 'H'}, {"help", no_argument, 0, 'h'}, {0}};
    am_view_opts o = {"127.0.0.1", 8000};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o.port = (int)strtol(optarg, &end, 10);
            if (*end || !*optarg || o.port < 0 || o.port > 65535) {
                fprintf(stderr, "attnmix-view: --port %s: expected 0 .. 65535\n", optarg);
                return 2;
            }
            break;
        case 'H': o.host = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fputs(usage, stderr);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    am_err e = {0};
    if (am_view_serve(argv[optind], &o, &stop, ready, argv[optind], &e) < 0) {
        const char *s = e.msg;
        do { /* one "attnmix view:" prefix per line */
            const char *nl = strchr(s, '\n');
            int len = nl ? (int)(nl - s) : (int)strlen(s);
            fprintf(stderr, "attnmix view: %.*s\n", len, s);
            s = nl ? nl + 1 : NULL;
        } while (s);
        return am_exit_status(&e);
    }
    return 0;
}
