/* The viewer's file check (am_view_safe_path): only files inside the output
 * directory, no "..", ".", empty components or backslashes, and no link that
 * leads out of it; and the query parser of the map API. */
#include "view/view.h"
#include "view/view_data.h"

#include "test_util.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX + 8];

static void touch(const char *rel) {
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    REQUIRE(f, "cannot write %s", p);
    fputs("x", f);
    fclose(f);
}

static void expect(const char *rel, int ok) {
    char out[PATH_MAX], want[PATH_MAX + 64];
    int rc = am_view_safe_path(root, rel, out, sizeof out);
    snprintf(want, sizeof want, "%s/%s", root, rel);
    if (ok) CHECK(rc == 0 && !strcmp(out, want), "'%s' refused (rc %d)", rel, rc);
    else CHECK(rc == -1, "'%s' served as %s", rel, out);
}

int main(void) {
    char tmpl[] = "/tmp/attnmix-view-XXXXXX", p[PATH_MAX + 64];
    REQUIRE(mkdtemp(tmpl), "mkdtemp");
    REQUIRE(realpath(tmpl, root), "realpath");
    snprintf(p, sizeof p, "%s/out", root);
    REQUIRE(mkdir(p, 0755) == 0, "mkdir");
    snprintf(p, sizeof p, "%s/out/figures", root);
    REQUIRE(mkdir(p, 0755) == 0, "mkdir");
    char top[PATH_MAX];
    REQUIRE(strlen(root) < sizeof top, "path too long");
    strcpy(top, root);
    touch("secret.txt");
    snprintf(root, sizeof root, "%s/out", top);
    touch("figures/index.html");
    char link[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/secret.txt", top);
    snprintf(link, sizeof link, "%s/figures/link.txt", root);
    REQUIRE(symlink(p, link) == 0, "symlink %s", link);
    snprintf(link, sizeof link, "%s/figures/inside.html", root);
    REQUIRE(symlink("index.html", link) == 0, "symlink %s", link);

    expect("figures/index.html", 1);
    expect("../secret.txt", 0);
    expect("figures/../../secret.txt", 0);
    expect("figures/../figures/index.html", 0); /* ".." anywhere */
    expect("./figures/index.html", 0);
    expect("figures//index.html", 0);
    expect("/etc/passwd", 0);
    expect("figures/", 0);
    expect("", 0);
    expect("figures\\..\\..\\secret.txt", 0);
    expect("figures/link.txt", 0); /* a link out of the directory */
    expect("figures/missing.html", 0);
    {
        char out[PATH_MAX];
        CHECK(am_view_safe_path(root, "figures/inside.html", out, sizeof out) == 0 &&
                  strstr(out, "/figures/index.html"),
              "a link inside the directory is served as its target");
    }

    int v = 7;
    CHECK(am_view_parse_index("3", 4, &v) == 0 && v == 3, "3 of 4");
    CHECK(am_view_parse_index("4", 4, &v) == -1, "4 of 4");
    CHECK(am_view_parse_index("-1", 4, &v) == -1, "-1");
    CHECK(am_view_parse_index("1x", 4, &v) == -1, "1x");
    CHECK(am_view_parse_index("", 4, &v) == -1 && am_view_parse_index(NULL, 4, &v) == -1, "empty");
    CHECK(am_view_parse_index("mean", 4, &v) == 0 && v == AM_VIEW_MEAN, "mean");
    CHECK(am_view_parse_index("std", 4, &v) == 0 && v == AM_VIEW_STD, "std");
    CHECK(am_view_parse_index("99999999999999999999", 4, &v) == -1, "overflow");

    snprintf(p, sizeof p, "rm -rf '%s'", top);
    if (system(p) != 0) fprintf(stderr, "could not remove %s\n", top);
    return failures != 0;
}
