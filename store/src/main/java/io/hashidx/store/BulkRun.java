package io.hashidx.store;

import java.lang.foreign.MemorySegment;

/**
 * A run of the bulk builder: records in the order they were added, grouped by partition (the top
 * {@link BulkBuilder#PARTITION_BITS} bits of their hash). Within one partition a run keeps the order
 * of {@link BulkBuilder#add}, and runs are numbered in the order they were filled, so reading a
 * partition run by run sees the records of any one key in the order they were added.
 */
sealed interface BulkRun extends AutoCloseable permits MemoryRun, FileRun {
    /** Record bytes in partition {@code p}. */
    long bytes(int p);

    /**
     * Copies the records of partitions {@code from} (inclusive) to {@code to} (exclusive), partition
     * by partition, to {@code dst} at {@code at}; returns the bytes copied.
     */
    long copyPartitions(int from, int to, MemorySegment dst, long at);

    /** Releases the run's memory or deletes its file. */
    @Override
    void close();
}
