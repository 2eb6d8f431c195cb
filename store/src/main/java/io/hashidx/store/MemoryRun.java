package io.hashidx.store;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The run being filled by {@link BulkBuilder#add}: records appended to one off-heap buffer as they
 * come, each preceded by a link to the previous record of its partition, so a partition can be
 * read without sorting the buffer. The links point backwards (appending writes nothing but the new
 * record), and {@link #copyPartition} restores the order by filling its destination from the end.
 *
 * <pre>
 *  | link u64: offset + 1 of the previous record of the partition, 0 for none | run record ({@link RunFormat}) |
 * </pre>
 *
 * The buffer starts small and doubles up to its capacity, so a small build uses little memory.
 */
final class MemoryRun implements BulkRun {
    static final int LINK = 8;
    private static final long FIRST_SIZE = 1 << 20;

    private final RunFormat format;
    private final long capacity;
    private Arena arena;
    private MemorySegment buffer;
    private long used;
    private final long[] last;
    private final long[] bytes;
    private long records;

    MemoryRun(RunFormat format, int partitions, long capacity) {
        this.format = format;
        this.capacity = capacity;
        this.last = new long[partitions];
        this.bytes = new long[partitions];
    }

    /**
     * Appends a record to partition {@code p}; false when the buffer is at its capacity and not empty
     * (then the caller spills it and starts another). A record larger than the capacity still fits an
     * empty buffer.
     */
    boolean append(int p, long hash, byte[] key, byte[] value) {
        long size = LINK + format.size(key.length, value.length);
        if (buffer == null || used + size > buffer.byteSize()) {
            if (used > 0 && used + size > capacity) {
                return false;
            }
            grow(used + size);
        }
        buffer.set(BucketLayout.LONG_U, used, last[p]);
        format.write(buffer, used + LINK, hash, key, value);
        last[p] = used + 1;
        bytes[p] += size - LINK;
        used += size;
        records++;
        return true;
    }

    private void grow(long needed) {
        long size = buffer == null ? Math.min(FIRST_SIZE, capacity) : Math.min(capacity, buffer.byteSize() * 2);
        size = Math.max(size, needed);
        Arena newArena = Arena.ofShared();
        MemorySegment bigger = newArena.allocate(size, 8);
        if (buffer != null) {
            MemorySegment.copy(buffer, 0, bigger, 0, used);
            arena.close();
        }
        arena = newArena;
        buffer = bigger;
    }

    long records() {
        return records;
    }

    boolean isEmpty() {
        return records == 0;
    }

    /** Record bytes in all partitions (what a spill writes). */
    long totalBytes() {
        return used - records * LINK;
    }

    @Override
    public long bytes(int p) {
        return bytes[p];
    }

    /**
     * Copies partition {@code p}'s records, in the order they were appended, into {@code dst} so that
     * they end at {@code end}.
     */
    void copyPartition(int p, MemorySegment dst, long end) {
        for (long link = last[p]; link != 0; ) {
            long at = link - 1;
            long size = format.sizeAt(buffer, at + LINK);
            end -= size;
            MemorySegment.copy(buffer, at + LINK, dst, end, size);
            link = buffer.get(BucketLayout.LONG_U, at);
        }
    }

    @Override
    public long copyPartitions(int from, int to, MemorySegment dst, long at) {
        long start = at;
        for (int p = from; p < to; p++) {
            at += bytes[p];
            copyPartition(p, dst, at);
        }
        return at - start;
    }

    /** Empties the run for reuse, keeping its buffer. */
    void clear() {
        used = 0;
        records = 0;
        java.util.Arrays.fill(last, 0);
        java.util.Arrays.fill(bytes, 0);
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
            buffer = null;
        }
    }
}
