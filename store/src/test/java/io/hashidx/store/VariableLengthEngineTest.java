package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's other paths on variable-length files with out-of-line entries: growth by 2^k
 * ({@link HashIndex#reserve}), which moves slots and never records; conditional writes that compare
 * and replace out-of-line values; and {@link HashIndex#copyTo}, both as the writer's point-in-time copy
 * and as the live copy a reader process makes (here called directly), which puts the entries into a
 * new variable-length file.
 */
class VariableLengthEngineTest {
    @TempDir
    Path dir;

    private static byte[] key(long k) {
        byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(k).array();
        return k % 2 == 0 ? b : Arrays.copyOf(b, 20 + (int) (k % 30)); // odd keys out of line
    }

    private static byte[] value(long k, int version) {
        int length = (int) ((k * 7 + version * 13) % 5) == 0 ? 10 : 17 + (int) ((k * 31 + version) % 700);
        byte[] v = new byte[length];
        for (int i = 0; i < length; i++) {
            v[i] = (byte) (k * 3 + version * 5 + i);
        }
        return v;
    }

    @Test
    void aGrowthBy2PowerKMovesOutOfLineSlotsAndKeepsEveryRecordThroughRestarts() {
        Path path = dir.resolve("reserve.hidx");
        Map<Long, byte[]> model = new HashMap<>();
        try (HashIndex idx = HashIndex.create(path, Options.variableLengths().seed(3))) {
            for (long k = 0; k < 2_000; k++) {
                idx.put(key(k), value(k, 0));
                model.put(k, value(k, 0));
            }
            idx.finishGrowth();
            long records = idx.table().h.recordCells;
            assertThat(idx.reserve(200_000)).as("a growth by 2^k started").isTrue();
            assertThat(idx.table().h.growthShift()).isGreaterThan(1);
            assertThat(idx.table().h.recordCells).as("growth moves no record").isEqualTo(records);
            SplittableRandom rnd = new SplittableRandom(9);
            for (int op = 0; op < 100; op++) {
                long k = rnd.nextInt(4_000);
                if (rnd.nextInt(4) == 0) {
                    idx.remove(key(k));
                    model.remove(k);
                } else {
                    idx.put(key(k), value(k, op));
                    model.put(k, value(k, op));
                }
                if (op % 50 == 49) {
                    assertThat(idx.table().h.growing()).as("the growth is still under way").isTrue();
                    assertThat(idx.verify()).isEmpty();
                }
            }
            idx.closeLeavingGrowth();
        }
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            check(ro, model);
        }
        try (HashIndex idx = HashIndex.open(path)) {
            check(idx, model);
            idx.finishGrowth();
            check(idx, model);
            Fixtures.assertNoLeakedCells(idx, "after the growth by 2^k");
        }
    }

    @Test
    void conditionalWritesCompareAndReplaceOutOfLineValues() {
        try (HashIndex idx = HashIndex.create(dir.resolve("cond.hidx"), Options.variableLengths().seed(4))) {
            byte[] k = key(1);
            byte[] a = value(1, 1);
            byte[] b = value(1, 2);
            byte[] c = new byte[5_000];
            Arrays.fill(c, (byte) 'c');
            assertThat(idx.putIfAbsent(k, a)).isNull();
            assertThat(idx.putIfAbsent(k, b)).isEqualTo(a);
            assertThat(idx.replace(k, b, c)).as("replace with a wrong expected value").isFalse();
            assertThat(idx.replace(k, a, c)).isTrue();
            assertThat(idx.get(k)).isEqualTo(c);
            assertThat(idx.replace(k, b)).isEqualTo(c);
            assertThat(idx.remove(k, c)).as("remove with a wrong expected value").isFalse();
            assertThat(idx.remove(k, b)).isTrue();
            assertThat(idx.get(k)).isNull();
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after the conditional writes");
            assertThat(idx.table().h.recordCells).isZero();
        }
    }

    @Test
    void copiesOfAVariableLengthFileHoldEveryEntry() throws Exception {
        Path path = dir.resolve("source.hidx");
        Map<Long, byte[]> model = new HashMap<>();
        try (HashIndex idx = HashIndex.create(path, Options.variableLengths().seed(5))) {
            for (long k = 0; k < 3_000; k++) {
                idx.put(key(k), value(k, 0));
                model.put(k, value(k, 0));
            }
            for (long k = 0; k < 3_000; k += 3) {
                idx.remove(key(k));
                model.remove(k);
            }
            Path pointInTime = dir.resolve("point.hidx");
            assertThat(idx.copyTo(pointInTime).pointInTime()).isTrue();
            Path live = dir.resolve("live.hidx");
            HashIndex.CopyResult r = Backup.live(idx.table().h, idx.size(), idx.iterator(), live);
            assertThat(r.entries()).isEqualTo(model.size());
            for (Path copy : new Path[] {pointInTime, live}) {
                try (HashIndex c = HashIndex.open(copy)) {
                    assertThat(c.variableLengths()).isTrue();
                    assertThat(c.seed()).isEqualTo(idx.seed());
                    check(c, model);
                    Fixtures.assertNoLeakedCells(c, copy.toString());
                }
            }
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".bulk-"));
            }
        }
    }

    /**
     * The bulk builder writes a variable-length file: records of out-of-line entries among the overflow
     * pages, one cell chain each. The file verifies, accounts for every cell, holds exactly what the same
     * puts (last value of each key) into a presized file hold, with the same bucket count and records as
     * many cells, and takes overwrites and removes afterwards, freeing records as a put-built file does.
     */
    @Test
    void theBulkBuilderWritesAVariableLengthFileThatHoldsWhatPutsWould() {
        Path built = dir.resolve("built.hidx");
        Path put = dir.resolve("put.hidx");
        Map<Long, byte[]> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(17);
        BulkBuilder.Result r;
        try (BulkBuilder b = HashIndex.bulkBuilder(built, Options.variableLengths().seed(6)).memory(BulkBuilder.MIN_MEMORY)) {
            for (int i = 0; i < 12_000; i++) {
                long k = rnd.nextInt(8_000);
                int version = i;
                byte[] v = rnd.nextInt(50) == 0 ? new byte[20_000 + rnd.nextInt(50_000)] : value(k, version);
                Arrays.fill(v, 0, Math.min(v.length, 8), (byte) k);
                b.add(key(k), v);
                model.put(k, v);
            }
            r = b.build();
        }
        assertThat(r.variableLengths()).isTrue();
        assertThat(r.recordCells()).isPositive();
        assertThat(r.entries()).isEqualTo(model.size());
        try (HashIndex p = HashIndex.create(put, Options.variableLengths().seed(6).expectedEntries(12_000))) {
            for (Map.Entry<Long, byte[]> e : model.entrySet()) {
                p.put(key(e.getKey()), e.getValue());
            }
            try (HashIndex b = HashIndex.openReadOnly(built)) {
                assertThat(b.variableLengths()).isTrue();
                assertThat(b.table().h.readVersion).isEqualTo(Header.VARIABLE_FORMAT_VERSION);
                assertThat(b.verify()).isEmpty();
                Fixtures.assertNoLeakedCells(b, "bulk built");
                assertThat(b.table().h.bucketCount).isEqualTo(p.table().h.bucketCount);
                assertThat(b.table().h.recordCells).as("record cells, as the puts took").isEqualTo(p.table().h.recordCells);
                assertThat(b.table().h.recordCells).isEqualTo(r.recordCells());
                for (long k = 0; k < 8_000; k++) {
                    assertThat(b.get(key(k))).as("key %d", k).isEqualTo(p.get(key(k)));
                }
                Map<Long, byte[]> iterated = new HashMap<>();
                for (var it = b.iterator(); it.hasNext(); ) {
                    var e = it.next();
                    long k = ByteBuffer.wrap(Arrays.copyOf(e.getKey(), 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
                    assertThat(iterated.put(k, e.getValue())).isNull();
                }
                assertThat(iterated).hasSize(model.size());
            }
        }
        try (HashIndex b = HashIndex.open(built)) {
            for (long k = 0; k < 8_000; k += 2) {
                if (k % 4 == 0) {
                    b.remove(key(k));
                    model.remove(k);
                } else {
                    b.put(key(k), value(k, -1));
                    model.put(k, value(k, -1));
                }
            }
            check(b, model);
            Fixtures.assertNoLeakedCells(b, "bulk built, then written");
        }
    }

    private static void check(HashIndex idx, Map<Long, byte[]> model) {
        for (long k = 0; k < 8_000; k++) {
            assertThat(idx.get(key(k))).as("key %d", k).isEqualTo(model.get(k));
        }
        assertThat(idx.size()).isEqualTo(model.size());
        assertThat(idx.verify()).isEmpty();
    }
}
