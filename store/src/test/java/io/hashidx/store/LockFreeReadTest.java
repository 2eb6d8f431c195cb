package io.hashidx.store;

import static io.hashidx.store.Fixtures.key16;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hashidx.store.HashIndexException.Code;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lookups without a lock (the bucket sequence lock, the reuse epoch, the geometry snapshot): a reader
 * never returns a torn value or another key's value while writers overwrite, insert, remove and grow;
 * close under readers gives CLOSED; and a version left odd by a killed writer costs a bounded wait,
 * not a hang, and is repaired by exactly the next read-write open.
 */
class LockFreeReadTest {
    @TempDir
    Path dir;

    /**
     * Value of key {@code k} in round {@code r}: the key number and the round, repeated, so a value
     * mixed from two writes (torn) or taken from another key's slot is recognised.
     */
    static byte[] value(int k, int r, int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.remaining() >= 8) {
            b.putInt(k).putInt(r);
        }
        return b.array();
    }

    /** The round a value of key {@code k} was written in, or -1 when it is torn or another key's. */
    static int roundOf(int k, byte[] v, int len) {
        if (len < 8 || len % 8 != 0) {
            return -1;
        }
        ByteBuffer b = ByteBuffer.wrap(v, 0, len).order(ByteOrder.LITTLE_ENDIAN);
        int round = b.getInt(4);
        for (int i = 0; i < len; i += 8) {
            if (b.getInt(i) != k || b.getInt(i + 4) != round) {
                return -1;
            }
        }
        return round;
    }

    @Test
    @Timeout(120)
    void readersNeverSeeATornValueOrANeighboursWhileTheWriterOverwritesInsertsRemovesAndGrows() throws Exception {
        int keys = 20_000;
        try (HashIndex idx = HashIndex.create(dir.resolve("torn.hidx"), Options.widths(16, 64).seed(3))) {
            AtomicBoolean done = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<long[]>> readers = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    long seed = r;
                    readers.add(pool.submit(() -> read(idx, keys, seed, done)));
                }
                SplittableRandom rnd = new SplittableRandom(7);
                // keys present from the start are only ever overwritten: they must always be found
                for (int k = 0; k < keys / 2; k++) {
                    idx.put(key16(k), value(k, 0, 64));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                int round = 1;
                while (System.nanoTime() < deadline || idx.table().h.doublings < 8) {
                    int k = rnd.nextInt(keys);
                    if (k < keys / 2) {
                        idx.put(key16(k), value(k, round++, 8 * (1 + rnd.nextInt(8))));
                    } else if (rnd.nextInt(3) == 0) {
                        idx.remove(key16(k));
                    } else {
                        idx.put(key16(k), value(k, round++, 64));
                    }
                }
                done.set(true);
                long reads = 0;
                for (Future<long[]> reader : readers) {
                    long[] r = reader.get();
                    reads += r[0];
                }
                assertThat(reads).as("reads done").isGreaterThan(10_000);
            } finally {
                done.set(true);
                pool.shutdownNow();
            }
            assertThat(idx.verify()).isEmpty();
        }
    }

    private static long[] read(HashIndex idx, int keys, long seed, AtomicBoolean done) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] key = new byte[16];
        byte[] dest = new byte[64];
        long reads = 0;
        while (!done.get()) {
            int k = rnd.nextInt(keys);
            key16(k, key);
            int len = idx.get(key, dest);
            if (len < 0) {
                if (k < keys / 2) {
                    // present from the start (or about to be: the writer may not have got there yet)
                    continue;
                }
            } else {
                assertThat(roundOf(k, dest, len)).as("value of key %d: never torn, never a neighbour's", k)
                        .isNotNegative();
            }
            byte[] v = idx.get(key);
            if (v != null) {
                assertThat(roundOf(k, v, v.length)).as("value of key %d (allocating get)", k).isNotNegative();
            }
            reads++;
        }
        return new long[] {reads};
    }

    @Test
    @Timeout(60)
    void closingUnderReadersGivesThemClosedAndNothingElse() throws Exception {
        for (int run = 0; run < 20; run++) {
            Path path = dir.resolve("close-" + run + ".hidx");
            HashIndex idx = HashIndex.create(path, Options.widths(16, 64).chunkSize(64 << 10).seed(run));
            for (int k = 0; k < 5_000; k++) {
                idx.put(key16(k), value(k, 0, 64));
            }
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<String>> readers = new ArrayList<>();
                java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(2);
                for (int r = 0; r < 2; r++) {
                    long seed = r;
                    readers.add(pool.submit(() -> readUntilClosed(idx, seed, reading)));
                }
                // both readers are in their loop, reading, when the index closes (a reader that failed
                // before counting down shows in its future below)
                if (!reading.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    for (Future<String> reader : readers) {
                        if (reader.isDone()) {
                            reader.get();
                        }
                    }
                }
                idx.close();
                for (Future<String> reader : readers) {
                    assertThat(reader.get()).isEqualTo("closed");
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static String readUntilClosed(HashIndex idx, long seed, java.util.concurrent.CountDownLatch reading) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] dest = new byte[64];
        for (long reads = 0; ; reads++) {
            if (reads == 1_000) {
                reading.countDown();
            }
            int k = rnd.nextInt(5_000);
            try {
                int len = idx.get(key16(k), dest);
                assertThat(roundOf(k, dest, len)).isZero();
                assertThat(idx.contains(key16(k))).isTrue();
                idx.size();
            } catch (HashIndexException e) {
                assertThat(e.code()).isEqualTo(Code.CLOSED);
                return "closed";
            }
        }
    }

    /** Leaves the file as a writer killed inside bucket {@code cell} would: its lane names it, its version is odd. */
    private static void killWriterInside(HashIndex idx, int lane, long cell) {
        Table t = idx.table();
        Header.nameLaneBuckets(t.file.header(), lane, cell, BucketLayout.NONE, BucketLayout.NONE);
        t.layout.enterBucket(cell);
        idx.closeLeavingGrowth();
    }

    private long bucketOf(HashIndex idx, byte[] key) {
        Table t = idx.table();
        return t.h.bucketsCell + Hashing.bucketIndex(Hashing.hash(key, t.h.seed), t.h.bucketCount);
    }

    @Test
    @Timeout(30)
    void aVersionLeftOddByAKilledWriterIsNotWaitedForReadOnlyAndIsRepairedByTheNextReadWriteOpen() {
        Path path = dir.resolve("killed.hidx");
        long cell;
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 64).seed(5))) {
            for (int k = 0; k < 1_000; k++) {
                idx.put(key16(k), value(k, 0, 64));
            }
        }
        HashIndex w = HashIndex.open(path);
        cell = bucketOf(w, key16(1));
        long other = bucketOf(w, key16(2)) == cell ? bucketOf(w, key16(3)) : bucketOf(w, key16(2));
        long otherVersion = w.table().layout.version(other);
        killWriterInside(w, 3, cell);
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            assertThat((ro.table().layout.version(cell) & 1)).as("still odd: a read-only open writes nothing").isOne();
            for (int k = 0; k < 1_000; k++) {
                assertThat(roundOf(k, ro.get(key16(k)), 64)).isZero();
            }
        }
        try (HashIndex rw = HashIndex.open(path)) {
            long v = rw.table().layout.version(cell);
            assertThat(v & 1).as("made even by recovery").isZero();
            assertThat(rw.table().layout.version(other)).as("a bucket the lane does not name is untouched")
                    .isEqualTo(otherVersion);
            assertThat(Header.laneBucket(rw.table().file.header(), 3, 0)).isEqualTo(BucketLayout.NONE);
            assertThat(rw.verify()).isEmpty();
            for (int k = 0; k < 1_000; k++) {
                assertThat(roundOf(k, rw.get(key16(k)), 64)).isZero();
            }
        }
    }

    @Test
    @Timeout(30)
    void anOddVersionThatNoWriterHoldsGivesAClearErrorAfterABoundedWaitNotAHang() {
        Path path = dir.resolve("stuck.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 64).seed(5))) {
            for (int k = 0; k < 100; k++) {
                idx.put(key16(k), value(k, 0, 64));
            }
            // a version odd with nobody inside and no lane naming it (as a writer of another process,
            // killed while this one reads, would leave it)
            long cell = bucketOf(idx, key16(1));
            idx.table().layout.enterBucket(cell);
            long start = System.nanoTime();
            assertThatThrownBy(() -> idx.get(key16(1)))
                    .isInstanceOfSatisfying(HashIndexException.class, e -> assertThat(e.code()).isEqualTo(Code.CORRUPT))
                    .hasMessageContaining("odd version").hasMessageContaining("killed");
            assertThat(System.nanoTime() - start).as("bounded").isLessThan(TimeUnit.SECONDS.toNanos(5));
            idx.table().layout.exitBucket(cell);
            assertThat(roundOf(1, idx.get(key16(1)), 64)).isZero();
        }
    }
}
