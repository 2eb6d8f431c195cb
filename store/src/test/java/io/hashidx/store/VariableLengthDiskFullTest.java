package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndexException.Code;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk under a variable-length file (a tmpfs of a few MiB, as {@link DiskFullTest}; it needs
 * root): inserts and overwrites whose records need cells fail with {@code DISK_FULL} once no cell can be
 * had, and leave nothing behind (the cells a record had taken before the disk filled go back to the free
 * list, the old value of an overwrite stays, every cell stays accounted for); removes free records and
 * later puts reuse their cells; a model of every acknowledged put and remove matches, and the file
 * closes, reopens and verifies clean on the full disk.
 */
class VariableLengthDiskFullTest {
    private static final long SEED = Long.getLong("hashidx.test.seed", 0xF011L);

    @TempDir
    Path tmp;

    @Test
    void recordsThatCannotGetCellsFailWithDiskFullAndLeaveNothingBehind() throws Exception {
        SplittableRandom rnd = new SplittableRandom(SEED);
        Map<Bytes, byte[]> model = new HashMap<>();
        try (SmallTmpfs fs = SmallTmpfs.mount(tmp.resolve("fs"), 4 << 20)) {
            Path path = fs.dir().resolve("full.hidx");
            int failedInserts = 0;
            int failedOverwrites = 0;
            int reusedAfterRemove = 0;
            try (HashIndex idx = HashIndex.create(path, Options.variableLengths().seed(SEED))) {
                for (int i = 0; i < 300; i++) {
                    byte[] key = key(rnd);
                    byte[] v = value(rnd, 200, 2_000);
                    idx.put(key, v);
                    model.put(Bytes.of(key), v);
                }
                fs.fill();
                for (int op = 0; op < 3_000 && (failedInserts < 50 || failedOverwrites < 20 || reusedAfterRemove < 20); op++) {
                    String where = "seed " + SEED + ", operation " + op;
                    int kind = rnd.nextInt(10);
                    List<Bytes> keys = new ArrayList<>(model.keySet());
                    if (kind < 5 || keys.isEmpty()) {
                        byte[] key = key(rnd);
                        byte[] v = value(rnd, 500, 6_000);
                        try {
                            idx.put(key, v);
                            model.put(Bytes.of(key), v);
                            if (failedInserts > 0) {
                                reusedAfterRemove++;
                            }
                        } catch (HashIndexException e) {
                            assertThat(e.code()).as("%s: %s", where, e.getMessage()).isEqualTo(Code.DISK_FULL);
                            assertThat(idx.get(key)).as("%s: a failed insert leaves nothing", where).isNull();
                            failedInserts++;
                        }
                    } else if (kind < 8) {
                        Bytes k = keys.get(rnd.nextInt(keys.size()));
                        byte[] v = value(rnd, 3_000, 12_000);
                        try {
                            idx.put(k.array(), v);
                            model.put(k, v);
                        } catch (HashIndexException e) {
                            assertThat(e.code()).as("%s: %s", where, e.getMessage()).isEqualTo(Code.DISK_FULL);
                            assertThat(e.getMessage()).contains("for a record cell", "nothing was changed");
                            assertThat(idx.get(k.array())).as("%s: a failed overwrite keeps the old value", where)
                                    .isEqualTo(model.get(k));
                            failedOverwrites++;
                        }
                    } else {
                        Bytes k = keys.get(rnd.nextInt(keys.size()));
                        assertThat(idx.remove(k.array())).as("%s: remove", where).isTrue();
                        model.remove(k);
                    }
                    if (op % 100 == 0) {
                        Fixtures.assertNoLeakedCells(idx, where);
                    }
                }
                System.out.printf("VariableLengthDiskFullTest: seed %d: %d inserts and %d overwrites failed with "
                        + "DISK_FULL, %d inserts succeeded after that, %d entries%n", SEED, failedInserts,
                        failedOverwrites, reusedAfterRemove, model.size());
                assertThat(failedInserts).as("inserts refused on the full disk").isPositive();
                assertThat(failedOverwrites).as("overwrites refused on the full disk").isPositive();
                assertThat(reusedAfterRemove).as("inserts into cells that removes freed").isPositive();
                assertThat(idx.verify()).isEmpty();
                Fixtures.assertNoLeakedCells(idx, "seed " + SEED + " at the end");
            }
            try (HashIndex idx = HashIndex.open(path)) {
                assertThat(idx.verify()).isEmpty();
                Fixtures.assertNoLeakedCells(idx, "reopened on the full disk");
                Fixtures.assertHoldsExactly(idx, model, SEED, "reopened on the full disk");
            }
        }
    }

    private static byte[] key(SplittableRandom rnd) {
        byte[] k = new byte[rnd.nextBoolean() ? 8 : 24];
        ByteBuffer.wrap(k).putLong(rnd.nextLong());
        return k;
    }

    private static byte[] value(SplittableRandom rnd, int min, int max) {
        byte[] v = new byte[min + rnd.nextInt(max - min)];
        rnd.nextBytes(v);
        return v;
    }
}
