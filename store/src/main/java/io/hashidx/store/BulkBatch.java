package io.hashidx.store;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A range of consecutive buckets ready to be written: the records of some consecutive partitions
 * read from every run, put in bucket order (a stable sort, so the records of one key stay in the
 * order they were added) and reduced to the last record of each key. Two batches alternate: the
 * building thread fills one while the writer writes the other.
 *
 * <p>Records are addressed by their offset in {@link #records}; after {@link #sortAndDeduplicate},
 * {@code emitted[i]} is the i-th record to write, {@code emittedHash[i]} its hash and
 * {@code emittedBucket[i]} its bucket relative to {@link #firstBucket}.
 */
final class BulkBatch implements AutoCloseable {
    private final long seed;
    private final RunFormat.Cursor cursor = new RunFormat.Cursor();
    private final RunFormat.Cursor other = new RunFormat.Cursor();
    private Arena arena;
    MemorySegment records;
    long used;

    /** Buckets this batch completes: [firstBucket, endBucket). */
    long firstBucket;
    long endBucket;
    int[] emitted = new int[1024];
    int[] emittedBucket = new int[1024];
    long[] emittedHash = new long[1024];
    int emittedCount;
    /** Records dropped because a later record had the same key. */
    long duplicates;

    private int[] offsets = new int[1024];
    private int[] buckets = new int[1024];
    private long[] hashes = new long[1024];
    private int[] counts = new int[1024];
    private long[] packed = new long[0];
    private int[] kept = new int[64];

    /** @param seed the file's hash seed */
    BulkBatch(long seed) {
        this.seed = seed;
    }

    /** Empties the batch and makes room for {@code bytes} of records. */
    void reset(long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalStateException("a batch of " + bytes + " bytes; partitions this large need more partitions");
        }
        if (records == null || records.byteSize() < bytes) {
            if (arena != null) {
                arena.close();
            }
            arena = Arena.ofShared();
            records = arena.allocate(Math.max(bytes, records == null ? 1 << 16 : records.byteSize() * 3 / 2), 8);
        }
        used = 0;
        emittedCount = 0;
        duplicates = 0;
    }

    /**
     * Puts the records in bucket order for buckets {@code [first, end)} of an array of
     * {@code bucketCount} buckets and keeps the last record of each key. Records whose bucket is
     * {@code end} or later belong to the next batch: they are moved to {@code carry}.
     */
    void sortAndDeduplicate(long first, long end, long bucketCount, Carry carry) {
        firstBucket = first;
        endBucket = end;
        int n = 0;
        for (long at = 0; at < used; ) {
            RunFormat.Cursor r = cursor.read(records, at);
            long size = r.end - at;
            long hash = hash(r);
            long bucket = Hashing.bucketIndex(hash, bucketCount);
            if (bucket >= end) {
                carry.append(records, at, size);
            } else {
                if (n == offsets.length) {
                    offsets = Arrays.copyOf(offsets, n * 2);
                    buckets = Arrays.copyOf(buckets, n * 2);
                    hashes = Arrays.copyOf(hashes, n * 2);
                }
                offsets[n] = (int) at;
                buckets[n] = (int) (bucket - first);
                hashes[n] = hash;
                n++;
            }
            at += size;
        }
        if (emitted.length < n) {
            emitted = new int[offsets.length];
            emittedBucket = new int[offsets.length];
            emittedHash = new long[offsets.length];
        }
        long span = end - first;
        if (span <= 2L * n + 1024) {
            countingSort(n, (int) span);
        } else {
            packedSort(n);
        }
        deduplicate(n);
    }

    /** The key's hash, as {@link Hashing#hash} computes it, read where the record lies. */
    private long hash(RunFormat.Cursor r) {
        return Hashing.xxh64(records, r.keyAt, r.keyLength, seed);
    }

    private boolean sameKey(int a, int b) {
        RunFormat.Cursor x = cursor.read(records, a);
        RunFormat.Cursor y = other.read(records, b);
        return x.keyLength == y.keyLength
                && MemorySegment.mismatch(records, x.keyAt, x.keyAt + x.keyLength, records, y.keyAt, y.keyAt + y.keyLength) < 0;
    }

    /** Copies the records carried over from the previous batch to the start of this one. */
    void takeCarry(Carry carry) {
        MemorySegment.copy(carry.buffer, 0, records, 0, carry.used);
        used = carry.used;
        carry.used = 0;
    }

    /**
     * Records of the last bucket a batch reached, which the next partitions may add to: at most one
     * bucket's records, so this buffer stays small.
     */
    static final class Carry implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private MemorySegment buffer = MemorySegment.NULL;
        long used;

        void append(MemorySegment from, long at, long size) {
            if (used + size > buffer.byteSize()) {
                MemorySegment bigger = arena.allocate(Math.max(used + size, Math.max(4096, buffer.byteSize() * 2)), 8);
                MemorySegment.copy(buffer, 0, bigger, 0, used);
                buffer = bigger;
            }
            MemorySegment.copy(from, at, buffer, used, size);
            used += size;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** Stable counting sort by bucket, for batches with few empty buckets. */
    private void countingSort(int n, int span) {
        if (counts.length < span + 1) {
            counts = new int[span + 1];
        } else {
            Arrays.fill(counts, 0, span + 1, 0);
        }
        for (int i = 0; i < n; i++) {
            counts[buckets[i] + 1]++;
        }
        for (int b = 0; b < span; b++) {
            counts[b + 1] += counts[b];
        }
        for (int i = 0; i < n; i++) {
            int to = counts[buckets[i]]++;
            emitted[to] = offsets[i];
            emittedBucket[to] = buckets[i];
            emittedHash[to] = hashes[i];
        }
    }

    /** Sort by (bucket, position) as one long each, for batches spread over many empty buckets. */
    private void packedSort(int n) {
        if (packed.length < n) {
            packed = new long[offsets.length];
        }
        for (int i = 0; i < n; i++) {
            packed[i] = (long) buckets[i] << 32 | i;
        }
        Arrays.sort(packed, 0, n);
        for (int i = 0; i < n; i++) {
            int j = (int) packed[i];
            emitted[i] = offsets[j];
            emittedBucket[i] = buckets[j];
            emittedHash[i] = hashes[j];
        }
    }

    /**
     * Within each bucket, keeps only the last record of every key, in the order of those last records.
     * Walks each bucket backwards comparing with the keys kept so far: few distinct keys share a
     * bucket, so this stays linear even when one key repeats a million times.
     */
    private void deduplicate(int n) {
        int out = 0;
        for (int start = 0; start < n; ) {
            int bucket = emittedBucket[start];
            int end = start + 1;
            while (end < n && emittedBucket[end] == bucket) {
                end++;
            }
            int keptCount = 0;
            for (int i = end - 1; i >= start; i--) {
                long hash = emittedHash[i];
                boolean later = false;
                for (int k = 0; k < keptCount && !later; k++) {
                    later = emittedHash[kept[k]] == hash && sameKey(emitted[kept[k]], emitted[i]);
                }
                if (later) {
                    duplicates++;
                } else {
                    if (keptCount == kept.length) {
                        kept = Arrays.copyOf(kept, keptCount * 2);
                    }
                    kept[keptCount++] = i;
                }
            }
            // kept[] holds indexes in [start, end) in descending order, each >= out + its rank: moving
            // them down in ascending order never overwrites one not yet moved
            for (int k = keptCount - 1; k >= 0; k--) {
                int i = kept[k];
                emitted[out] = emitted[i];
                emittedHash[out] = emittedHash[i];
                emittedBucket[out] = bucket;
                out++;
            }
            start = end;
        }
        emittedCount = out;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
            records = null;
        }
    }
}
