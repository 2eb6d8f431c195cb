package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A memory run gives back each partition's records in the order they were appended, whether they went
 * through the write-combining buffers (records of up to {@value MemoryRun#COMBINE} bytes in a run large
 * enough for them) or straight to the blocks, and refuses a record only when its blocks are used up.
 */
class MemoryRunTest {
    @ParameterizedTest(name = "{0} partitions, capacity {1} bytes, seed {2}")
    @CsvSource({
        "16, 1048576, 1",    // write combining on (capacity / partitions >= 16 * COMBINE)
        "16, 1048576, 2",
        "64, 65536, 3",      // write combining off
        "4, 8388608, 4"})
    void partitionsComeBackInAppendOrderUntilTheRunIsFull(int partitions, long capacity, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<List<byte[][]>> expected = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            expected.add(new ArrayList<>());
        }
        try (MemoryRun run = new MemoryRun(partitions, capacity)) {
            long records = 0;
            while (true) {
                int p = random.nextInt(partitions);
                // lengths skewed to the write-combining buffer's size: below, at and above it
                int keyLength = random.nextInt(4) == 0 ? random.nextInt(600) : random.nextInt(1, 40);
                int valueLength = random.nextInt(8) == 0 ? MemoryRun.COMBINE - 2 - keyLength + random.nextInt(-2, 3)
                        : random.nextInt(0, 60);
                valueLength = Math.max(0, valueLength);
                byte[] key = bytes(random, keyLength);
                byte[] value = bytes(random, valueLength);
                if (!run.append(p, key, 0, key.length, value, 0, value.length)) {
                    break;
                }
                expected.get(p).add(new byte[][] {key, value});
                records++;
            }
            assertThat(run.records()).as("seed %d", seed).isEqualTo(records).isGreaterThan(100);
            try (Arena arena = Arena.ofConfined()) {
                RunFormat.Cursor r = new RunFormat.Cursor();
                for (int p = 0; p < partitions; p++) {
                    MemorySegment dst = arena.allocate(run.bytes(p) + 1);
                    assertThat(run.copyPartitions(p, p + 1, dst, 0)).isEqualTo(run.bytes(p));
                    long at = 0;
                    for (byte[][] kv : expected.get(p)) {
                        r.read(dst, at);
                        assertThat(dst.asSlice(r.keyAt, r.keyLength).toArray(ValueLayout.JAVA_BYTE))
                                .as("seed %d partition %d record at %d", seed, p, at).isEqualTo(kv[0]);
                        assertThat(dst.asSlice(r.valueAt, r.valueLength).toArray(ValueLayout.JAVA_BYTE))
                                .as("seed %d partition %d record at %d", seed, p, at).isEqualTo(kv[1]);
                        at = r.end;
                    }
                    assertThat(at).as("seed %d partition %d", seed, p).isEqualTo(run.bytes(p));
                }
            }
            run.clear();
            assertThat(run.records()).isZero();
            byte[] one = {1, 2, 3};
            assertThat(run.append(0, one, 0, 3, one, 0, 3)).isTrue();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment dst = arena.allocate(run.bytes(0));
                run.copyPartitions(0, partitions, dst, 0);
                assertThat(dst.toArray(ValueLayout.JAVA_BYTE)).containsExactly(3, 3, 1, 2, 3, 1, 2, 3);
            }
        }
    }

    /**
     * A run that allocates its next slab on another thread holds the same records as one that does
     * not, and never allocates more slabs than its capacity needs (the one allocated ahead included).
     */
    @ParameterizedTest(name = "{0} partitions, capacity {1} bytes")
    @CsvSource({"16, 1048576", "64, 65536", "4096, 201326592"})
    void allocatingTheNextSlabAheadChangesNothingButTheThread(int partitions, long capacity) {
        java.util.concurrent.ExecutorService allocator = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (MemoryRun plain = new MemoryRun(partitions, capacity);
             MemoryRun ahead = new MemoryRun(partitions, capacity, allocator)) {
            SplittableRandom random = new SplittableRandom(partitions);
            while (true) {
                int p = random.nextInt(partitions);
                byte[] key = bytes(random, random.nextInt(1, 24));
                byte[] value = bytes(random, random.nextInt(0, 24));
                boolean appended = plain.append(p, key, 0, key.length, value, 0, value.length);
                assertThat(ahead.append(p, key, 0, key.length, value, 0, value.length)).isEqualTo(appended);
                if (!appended) {
                    break;
                }
                assertThat(ahead.allocatedBytes()).isGreaterThanOrEqualTo(plain.allocatedBytes());
            }
            assertThat(ahead.allocatedBytes()).as("slabs when full").isEqualTo(plain.allocatedBytes());
            assertThat(ahead.records()).isEqualTo(plain.records()).isGreaterThan(100);
            try (Arena arena = Arena.ofConfined()) {
                for (int p = 0; p < partitions; p++) {
                    assertThat(ahead.bytes(p)).isEqualTo(plain.bytes(p));
                    MemorySegment a = arena.allocate(ahead.bytes(p) + 1);
                    MemorySegment b = arena.allocate(plain.bytes(p) + 1);
                    ahead.copyPartitions(p, p + 1, a, 0);
                    plain.copyPartitions(p, p + 1, b, 0);
                    assertThat(a.mismatch(b)).as("partition %d", p).isEqualTo(-1L);
                }
            }
        } finally {
            allocator.shutdownNow();
        }
    }

    private static byte[] bytes(SplittableRandom random, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) random.nextInt();
        }
        return b;
    }
}
