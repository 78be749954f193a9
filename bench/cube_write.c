/* Cube write throughput: attention maps written through am_maps (chunked,
 * shuffle + deflate, float32 or float16) against a raw sequential write of the
 * same bytes, in the same run. Maps are the real Qwen3-1.7B maps of
 * shared/data when given (realistic compression), else synthetic peaky ones.
 *   bench-cube-write [--maps FILE.h5] [--copies N] [--dir DIR] */
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/progress.h"
#include "h5/h5io.h"
#include "h5/maps.h"

static double raw_write(const char *path, const float *maps, size_t n_maps, size_t map_bytes, int copies) {
    double t0 = am_now();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (int c = 0; c < copies; c++)
        for (size_t i = 0; i < n_maps; i++)
            if (write(fd, (const char *)maps + i * map_bytes, map_bytes) != (ssize_t)map_bytes) {
                perror("write");
                exit(1);
            }
    fsync(fd);
    close(fd);
    return am_now() - t0;
}

int main(int argc, char **argv) {
    const char *maps_path = NULL, *dir = "/tmp";
    int copies = 4;
    static const struct option opts[] = {{"maps", required_argument, 0, 'm'},
                                         {"copies", required_argument, 0, 'c'},
                                         {"dir", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "m:c:d:h", opts, NULL)) != -1) {
        if (c == 'm') maps_path = optarg;
        else if (c == 'c') copies = atoi(optarg);
        else if (c == 'd') dir = optarg;
        else {
            printf("usage: bench-cube-write [--maps FILE.h5] [--copies N] [--dir DIR]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    am_h5_quiet();
    am_err e = {0};
    float *maps = NULL;
    hsize_t dims[6] = {2, 5, 3, 16, 106, 106};
    if (maps_path) {
        hid_t f = H5Fopen(maps_path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0 || am_h5_read(f, "attention", H5T_NATIVE_FLOAT, 6, dims, (void **)&maps, &e) < 0) {
            fprintf(stderr, "bench-cube-write: %s: %s\n", maps_path, e.msg);
            return 1;
        }
        H5Fclose(f);
    } else { /* synthetic causal maps: a sink, a diagonal and a decaying band */
        size_t n = dims[0] * dims[1] * dims[2] * dims[3];
        size_t S = dims[4];
        maps = calloc(n * S * S, sizeof *maps);
        for (size_t m = 0; m < n; m++)
            for (size_t q = 0; q < S; q++) {
                float *row = maps + (m * S + q) * S, sum = 0;
                for (size_t k = 0; k <= q; k++)
                    sum += row[k] = expf(-(float)(q - k) * (0.2f + 0.01f * (m % 17))) + (k == 0) * 3.0f;
                for (size_t k = 0; k <= q; k++) row[k] /= sum;
            }
    }
    const int P = (int)dims[0], A = (int)dims[1], L = (int)dims[2], H = (int)dims[3], S = (int)dims[4];
    const size_t n_maps = (size_t)P * A * L * H, map_bytes = (size_t)S * S * sizeof(float);
    const double mb = (double)n_maps * map_bytes * copies / 1e6;
    char raw_path[4200], h5_path[4200];
    snprintf(raw_path, sizeof raw_path, "%s/bench-cube-raw.bin", dir);
    snprintf(h5_path, sizeof h5_path, "%s/bench-cube.h5", dir);

    printf("cube write: %zu maps of %dx%d (%s), x%d copies = %.1f MB of float32 maps\n", n_maps, S, S,
           maps_path ? "real Qwen3-1.7B maps" : "synthetic maps", copies, mb);
    double t_raw = raw_write(raw_path, maps, n_maps, map_bytes, copies);
    printf("  %-28s %8.1f MB/s  (baseline)\n", "raw sequential write", mb / t_raw);
    struct {
        int f16, level;
    } cases[] = {{0, 0}, {0, 1}, {0, 4}, {1, 0}, {1, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        am_h5_out out;
        am_maps w;
        double t0 = am_now();
        if (am_h5_out_create(&out, h5_path, &e) < 0 ||
            am_maps_create(&w, out.file, "attention", P * copies, A, L, H, S, cases[i].f16, cases[i].level, &e) < 0) {
            fprintf(stderr, "bench-cube-write: %s\n", e.msg);
            return 1;
        }
        for (int cp = 0; cp < copies; cp++)
            for (int p = 0; p < P; p++)
                for (int a = 0; a < A; a++)
                    for (int l = 0; l < L; l++)
                        if (am_maps_write(&w, cp * P + p, a, l, maps + ((((size_t)p * A + a) * L + l) * H) * S * S,
                                          &e) < 0) {
                            fprintf(stderr, "bench-cube-write: %s\n", e.msg);
                            return 1;
                        }
        am_maps_close(&w);
        if (am_h5_out_commit(&out, &e) < 0) {
            fprintf(stderr, "bench-cube-write: %s\n", e.msg);
            return 1;
        }
        double t = am_now() - t0;
        FILE *f = fopen(h5_path, "rb");
        fseek(f, 0, SEEK_END);
        double bytes = (double)ftell(f);
        fclose(f);
        char name[64];
        snprintf(name, sizeof name, "%s deflate %d", cases[i].f16 ? "float16" : "float32", cases[i].level);
        printf("  %-28s %8.1f MB/s  %.2fx raw   %7.0f bytes/map  compression %.2fx vs float32\n", name, mb / t,
               t_raw / t, bytes / (double)(n_maps * copies), mb * 1e6 / bytes);
    }
    unlink(raw_path);
    unlink(h5_path);
    free(maps);
    return 0;
}
