/* bench-tsne: runs attnmix t-SNE on /X [N,D] of an HDF5 file (or on
 * generated clustered data) and reports time and KL; bench/tsne.sh compares
 * it with scikit-learn on the same data.
 *
 *   bench-tsne --in data.h5 [--out emb.h5] [--method auto|exact|barnes_hut|fft]
 *              [--perplexity P] [--iterations N] [--seed S] [--threads T]
 *   bench-tsne --in data.h5 --eval emb.h5 [--perplexity P] [--threads T]
 *   bench-tsne --make data.h5 --n N [--dim 16] [--clusters 10] [--seed S]
 *
 * After a run (and with --eval, for /Y of another file, e.g. scikit-learn's)
 * it prints kl_exact_z: KL of the embedding for the sparse kNN P with the exact
 * normalisation Z over all pairs (am_tsne_sparse_kl), the same number for
 * both sides; for N <= 5000 also kl_dense, the exact KL with the dense P.
 */
#include <getopt.h>
#include <hdf5.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "analysis/tsne.h"

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double rng_normal(uint64_t *s) {
    double u1 = ((rng_next(s) >> 11) + 0.5) * 0x1.0p-53, u2 = ((rng_next(s) >> 11) + 0.5) * 0x1.0p-53;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static double cpu_s(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/* Reads dataset name [N,cols] of path into a new buffer; NULL on failure. */
static double *read_matrix(const char *path, const char *name, int cols, int *N_out, int *D_out) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = f >= 0 ? H5Dopen2(f, name, H5P_DEFAULT) : -1;
    double *X = NULL;
    if (d >= 0) {
        hid_t sp = H5Dget_space(d);
        hsize_t dims[2];
        if (H5Sget_simple_extent_ndims(sp) == 2) {
            H5Sget_simple_extent_dims(sp, dims, NULL);
            if (cols <= 0 || (int)dims[1] == cols) {
                X = malloc((size_t)dims[0] * dims[1] * sizeof *X);
                if (X && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, X) < 0) {
                    free(X);
                    X = NULL;
                }
                *N_out = (int)dims[0];
                *D_out = (int)dims[1];
            }
        }
        H5Sclose(sp);
        H5Dclose(d);
    }
    if (f >= 0) H5Fclose(f);
    return X;
}

/* Prints kl_exact_z (and kl_dense for N <= 5000) of Y [N,2]. */
static int print_eval(const double *X, int N, int D, double perplexity, const double *Y) {
    am_err e = {0};
    double k, kd = NAN;
    if (am_tsne_sparse_kl(X, N, D, perplexity, Y, &k, &e) ||
        (N <= 5000 && am_tsne_exact_kl(X, N, D, perplexity, Y, &kd, &e))) {
        fprintf(stderr, "bench-tsne: %s\n", e.msg);
        return 1;
    }
    printf(" kl_exact_z=%.6f", k);
    if (N <= 5000) printf(" kl_dense=%.6f", kd);
    printf("\n");
    return 0;
}

static int write_matrix(const char *path, const char *name, const double *X, int N, int D, int create) {
    hid_t f =
        create ? H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT) : H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return -1;
    hsize_t dims[2] = {(hsize_t)N, (hsize_t)D};
    hid_t s = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, X) < 0 ? -1 : 0;
    if (d >= 0) H5Dclose(d);
    H5Sclose(s);
    H5Fclose(f);
    return rc;
}

static void attr_f64(const char *path, const char *dset, const char *name, double v) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, dset, H5P_DEFAULT);
    hid_t s = H5Screate(H5S_SCALAR), a = H5Acreate2(d, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
}

int main(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *make = NULL, *eval = NULL;
    int n = 2000, dim = 16, clusters = 10, threads = 0;
    am_tsne_opts o;
    am_tsne_defaults(&o);
    static const struct option opts[] = {{"in", 1, 0, 'i'},
                                         {"out", 1, 0, 'o'},
                                         {"make", 1, 0, 'm'},
                                         {"n", 1, 0, 'n'},
                                         {"dim", 1, 0, 'd'},
                                         {"clusters", 1, 0, 'c'},
                                         {"method", 1, 0, 'M'},
                                         {"perplexity", 1, 0, 'p'},
                                         {"iterations", 1, 0, 'I'},
                                         {"seed", 1, 0, 's'},
                                         {"threads", 1, 0, 't'},
                                         {"verbose", 0, 0, 'v'},
                                         {"eval", 1, 0, 'E'},
                                         {"fft-nodes", 1, 0, 'P'},
                                         {"fft-per-unit", 1, 0, 'U'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 'm': make = optarg; break;
        case 'n': n = atoi(optarg); break;
        case 'd': dim = atoi(optarg); break;
        case 'c': clusters = atoi(optarg); break;
        case 'M':
            if (am_tsne_method_parse(optarg, &o.method)) {
                fprintf(stderr, "bench-tsne: --method auto|exact|barnes_hut|fft\n");
                return 2;
            }
            break;
        case 'E': eval = optarg; break;
        case 'P': o.fft_nodes = atoi(optarg); break;
        case 'U': o.fft_per_unit = atof(optarg); break;
        case 'p': o.perplexity = atof(optarg); break;
        case 'I': o.iterations = atoi(optarg); break;
        case 's': o.seed = strtoull(optarg, NULL, 10); break;
        case 't': threads = atoi(optarg); break;
        case 'v': o.verbose = 1; break;
        case 'h':
            puts("usage: bench-tsne --in data.h5 [--out emb.h5] [--method auto|exact|barnes_hut|fft]\n"
                 "                  [--perplexity P] [--iterations N] [--seed S] [--threads T] [--verbose]\n"
                 "                  [--fft-nodes P] [--fft-per-unit U]\n"
                 "       bench-tsne --in data.h5 --eval emb.h5 [--perplexity P] [--threads T]\n"
                 "       bench-tsne --make data.h5 --n N [--dim 16] [--clusters 10] [--seed S]");
            return 0;
        default: return 2;
        }
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (make) { /* clustered Gaussian data: centres N(0, 4^2 I), points N(centre, I) */
        uint64_t s = o.seed + 12345;
        double *C = malloc((size_t)clusters * dim * sizeof *C), *X = malloc((size_t)n * dim * sizeof *X);
        if (!C || !X) return 1;
        for (int i = 0; i < clusters * dim; i++) C[i] = 4 * rng_normal(&s);
        for (int i = 0; i < n; i++) {
            int k = (int)(rng_next(&s) % (uint64_t)clusters);
            for (int d = 0; d < dim; d++) X[(size_t)i * dim + d] = C[k * dim + d] + rng_normal(&s);
        }
        int rc = write_matrix(make, "X", X, n, dim, 1);
        free(C);
        free(X);
        if (rc) {
            fprintf(stderr, "bench-tsne: cannot write %s\n", make);
            return 1;
        }
        return 0;
    }
    if (!in) {
        fprintf(stderr, "bench-tsne: --in or --make is required\n");
        return 2;
    }
    if (threads > 0) omp_set_num_threads(threads);
    int N = 0, D = 0, NY = 0, two = 0;
    double *X = read_matrix(in, "X", 0, &N, &D);
    if (!X) {
        fprintf(stderr, "bench-tsne: %s: cannot read /X [N,D]\n", in);
        return 1;
    }
    if (eval) {
        double *Ye = read_matrix(eval, "Y", 2, &NY, &two);
        if (!Ye || NY != N) {
            fprintf(stderr, "bench-tsne: %s: cannot read /Y [%d,2]\n", eval, N);
            return 1;
        }
        printf("eval N=%d %s", N, eval);
        int rc = print_eval(X, N, D, o.perplexity, Ye);
        free(Ye);
        free(X);
        return rc;
    }
    double *Y = malloc((size_t)N * 2 * sizeof *Y);
    if (!Y) return 1;
    am_tsne_result r;
    am_err e = {0};
    double t0 = omp_get_wtime(), c0 = cpu_s();
    if (am_tsne_run(X, N, D, &o, Y, &r, &e)) {
        fprintf(stderr, "bench-tsne: %s\n", e.msg);
        return 1;
    }
    double t = omp_get_wtime() - t0, ct = cpu_s() - c0;
    printf("attnmix N=%d D=%d method=%s threads=%d time=%.3f s cpu=%.1f s (affinities %.3f, optimise %.3f) kl=%.6f "
           "iterations=%d",
           N, D, am_tsne_method_name(r.method), omp_get_max_threads(), t, ct, r.seconds_affinities, r.seconds_optimise,
           r.kl, r.iterations);
    fflush(stdout);
    if (getenv("BENCH_TSNE_NO_EVAL")) printf("\n");
    else if (print_eval(X, N, D, o.perplexity, Y)) return 1;
    if (out) {
        if (write_matrix(out, "Y", Y, N, 2, 1)) {
            fprintf(stderr, "bench-tsne: cannot write %s\n", out);
            return 1;
        }
        attr_f64(out, "Y", "kl_divergence", r.kl);
        attr_f64(out, "Y", "seconds", t);
    }
    free(X);
    free(Y);
    return 0;
}
