# Scale-out on Slurm: the virtual-dataset merge on shard cubes written with
# h5py, and the whole experiment as an array job on a one-node localhost
# Slurm cluster (skipped with a notice where its daemons cannot run).
set(SLURM_SRC ${CMAKE_CURRENT_SOURCE_DIR}/slurm)
set(SLURM_DIR ${CMAKE_CURRENT_BINARY_DIR}/slurm)

attnmix_script_test(slurm_merge ${ATTNMIX_PYTHON} ${SLURM_SRC}/merge_test.py ${SLURM_DIR}/merge)
attnmix_script_test(slurm_array bash ${SLURM_SRC}/array_test.sh ${SLURM_DIR}/array)
set_tests_properties(slurm_array PROPERTIES RUN_SERIAL TRUE SKIP_REGULAR_EXPRESSION "SKIP: ")
