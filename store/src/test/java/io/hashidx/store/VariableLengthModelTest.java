package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Variable-length files against a HashMap: seeded random puts, overwrites, removes and the conditional
 * operations with keys and values from 0 bytes to several MiB, most of them near the inline widths
 * and near whole numbers of record cells, through growth, closes mid-growth and reopens; after each
 * reopen the whole file is compared and verified, and every cell is accounted for (records freed by
 * overwrites and removes are reused, none leaks). On failure the message names the seed and the
 * operation.
 */
class VariableLengthModelTest {
    /** Lengths that matter: the inline widths and whole record cells, each side of them. */
    private static int length(SplittableRandom r, int inline, int recordCapacity) {
        int pick = r.nextInt(100);
        if (pick < 30) {
            return r.nextInt(inline + 1);
        }
        if (pick < 60) {
            return Math.max(0, inline - 1 + r.nextInt(3));
        }
        if (pick < 85) {
            int cells = 1 + r.nextInt(3);
            return Math.max(0, cells * recordCapacity - 2 + r.nextInt(5));
        }
        if (pick < 99) {
            return r.nextInt(64 << 10);
        }
        return r.nextInt(3 << 20);
    }

    private static byte[] bytes(SplittableRandom r, int length, long tag) {
        byte[] b = new byte[length];
        long x = tag * 0x9E3779B97F4A7C15L + length;
        for (int i = 0; i < length; i++) {
            if ((i & 7) == 0) {
                x = x * 6364136223846793005L + 1442695040888963407L;
            }
            b[i] = (byte) (x >>> ((i & 7) * 8));
        }
        return b;
    }

    @Test
    void randomOperationsWithLengthsFromZeroToMegabytesMatchAHashMapThroughGrowthAndReopens(@TempDir Path dir) {
        for (long seed : new long[] {1, 2, 3}) {
            run(dir.resolve("v" + seed + ".hidx"), seed, Options.variableLengths().seed(seed), 6_000);
        }
    }

    @Test
    void smallChunksAndOtherInlineWidthsKeepRecordsAcrossChunkBoundaries(@TempDir Path dir) {
        run(dir.resolve("chunks.hidx"), 7, Options.variableLengths(8, 24).seed(7).chunkSize(64 << 10), 4_000);
    }

    @Test
    void keysAndValuesOf16MiBAreStoredAndOneByteMoreIsRefusedNamingTheLimit(@TempDir Path dir) {
        Path file = dir.resolve("big.hidx");
        byte[] key = bytes(new SplittableRandom(1), Options.MAX_VARIABLE_LENGTH, 1);
        byte[] value = bytes(new SplittableRandom(2), Options.MAX_VARIABLE_LENGTH, 2);
        try (HashIndex idx = HashIndex.create(file, Options.variableLengths().seed(9))) {
            assertThat(idx.maxKeyLength()).isEqualTo(16 << 20);
            assertThat(idx.maxValueLength()).isEqualTo(16 << 20);
            assertThat(idx.put(key, value)).isFalse();
            Fixtures.assertFails(() -> idx.put(new byte[Options.MAX_VARIABLE_LENGTH + 1], new byte[1]),
                    HashIndexException.TooLong.class, HashIndexException.Code.KEY_TOO_LONG, file,
                    "key of 16777217 bytes is longer than the 16777216 bytes (16 MiB) a key of a variable-length file may have");
            Fixtures.assertFails(() -> idx.put(new byte[1], new byte[Options.MAX_VARIABLE_LENGTH + 1]),
                    HashIndexException.TooLong.class, HashIndexException.Code.VALUE_TOO_LONG, file,
                    "value of 16777217 bytes is longer than the 16777216 bytes (16 MiB)");
            byte[] small = new byte[100];
            Fixtures.assertFails(() -> idx.get(key, small), HashIndexException.State.class,
                    HashIndexException.Code.INVALID_ARGUMENT, file, "pass at least 16777216 bytes, or use get(key)");
        }
        try (HashIndex idx = HashIndex.open(file)) {
            assertThat(idx.get(key)).isEqualTo(value);
            assertThat(idx.remove(key, value)).isTrue();
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after removing the 32 MiB entry");
            assertThat(idx.table().h.recordCells).isZero();
        }
    }

    private static void run(Path file, long seed, Options options, int ops) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<Bytes, byte[]> model = new HashMap<>();
        List<byte[]> keys = new ArrayList<>();
        HashIndex idx = HashIndex.create(file, options);
        int recordCapacity = idx.table().layout.recordCapacity;
        try {
            for (int op = 0; op < ops; op++) {
                String at = "seed " + seed + ", op " + op;
                byte[] key;
                if (keys.isEmpty() || r.nextInt(3) == 0) {
                    key = bytes(r, length(r, options.keyWidth(), recordCapacity), op);
                    key = ByteBuffer.allocate(key.length + 4).putInt(op).put(key).array();
                    if (r.nextInt(4) == 0) {
                        key = Arrays.copyOf(key, r.nextInt(3)); // the empty key and tiny ones, shared by many ops
                    }
                    keys.add(key);
                } else {
                    key = keys.get(r.nextInt(keys.size()));
                }
                byte[] value = bytes(r, length(r, options.valueWidth(), recordCapacity), ~op);
                Bytes k = Bytes.of(key);
                byte[] present = model.get(k);
                switch (r.nextInt(10)) {
                    case 0, 1, 2 -> {
                        assertThat(idx.put(key, value)).as(at).isEqualTo(present != null);
                        model.put(k, value);
                    }
                    case 3 -> {
                        assertThat(idx.remove(key)).as(at).isEqualTo(present != null);
                        model.remove(k);
                    }
                    case 4 -> {
                        assertThat(idx.putIfAbsent(key, value)).as(at).isEqualTo(present);
                        model.putIfAbsent(k, value);
                    }
                    case 5 -> {
                        byte[] expected = present != null && r.nextBoolean() ? present : value;
                        boolean matches = present != null && Arrays.equals(present, expected);
                        assertThat(idx.replace(key, expected, value)).as(at).isEqualTo(matches);
                        if (matches) {
                            model.put(k, value);
                        }
                    }
                    case 6 -> {
                        byte[] expected = present != null && r.nextBoolean() ? present : value;
                        boolean matches = present != null && Arrays.equals(present, expected);
                        assertThat(idx.remove(key, expected)).as(at).isEqualTo(matches);
                        if (matches) {
                            model.remove(k);
                        }
                    }
                    case 7, 8 -> {
                        assertThat(idx.get(key)).as(at).isEqualTo(present);
                        if (present != null) {
                            byte[] dest = new byte[present.length + 1];
                            assertThat(idx.get(key, dest)).as(at).isEqualTo(present.length);
                            assertThat(Arrays.copyOf(dest, present.length)).as(at).isEqualTo(present);
                        }
                    }
                    default -> {
                        if (r.nextInt(40) == 0) {
                            if (r.nextBoolean()) {
                                idx.closeLeavingGrowth();
                            } else {
                                idx.close();
                            }
                            idx = HashIndex.open(file);
                            assertThat(idx.verify()).as(at).isEmpty();
                            Fixtures.assertHoldsExactly(idx, model, seed + op, at);
                            Fixtures.assertNoLeakedCells(idx, at);
                        }
                    }
                }
            }
            assertThat(idx.verify()).as("seed %d", seed).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, seed, "seed " + seed);
            long outOfLine = model.entrySet().stream()
                    .filter(e -> e.getKey().array().length > options.keyWidth() || e.getValue().length > options.valueWidth())
                    .count();
            System.out.printf("seed %d: %d entries, %d out of line, %d record cells, %d free cells, %d doublings%n",
                    seed, model.size(), outOfLine, idx.table().h.recordCells, idx.table().h.freeCells,
                    idx.table().h.doublings);
            assertThat(outOfLine).as("seed %d: entries out of line", seed).isGreaterThan(model.size() / 4);
            assertThat(idx.table().h.doublings).as("seed %d: doublings", seed).isGreaterThanOrEqualTo(4);
            Fixtures.assertNoLeakedCells(idx, "seed " + seed);
        } finally {
            idx.close();
        }
        try (HashIndex ro = HashIndex.openReadOnly(file)) {
            Fixtures.assertHoldsExactly(ro, model, seed, "seed " + seed + ", read-only");
            assertThat(ro.verify()).isEmpty();
        }
    }
}
