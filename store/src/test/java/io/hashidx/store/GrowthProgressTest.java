package io.hashidx.store;

import static io.hashidx.store.Fixtures.key8;
import static io.hashidx.store.Fixtures.value16Varying;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HashIndex#growth()} reports what a full scan ({@code inspect().growth()}) finds, without the scan. */
class GrowthProgressTest {
    private static final long SEED = 0x6_0C0DEL;

    @Test
    void growthMatchesInspectAfterEveryWriteOfADoublingAndAfterReopeningMidGrowth(@TempDir Path dir) {
        Path path = dir.resolve("progress.hidx");
        SplittableRandom rnd = new SplittableRandom(SEED);
        long id = 0;
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED))) {
            assertThat(idx.growth()).isEqualTo(idx.inspect().growth());
            while (!(idx.growth().growing() && idx.growth().oldBuckets() >= 128)) {
                idx.put(key8(id), value16Varying(id, id));
                id++;
            }
            assertThat(idx.growth().evacuated()).as("seed %d: a write during growth evacuates at most 2 buckets", SEED)
                    .isBetween(1L, 2L);
            long writes = 0;
            while (idx.growth().growing() && writes < 20) {
                long target = rnd.nextLong(id + 1);
                if (rnd.nextBoolean()) {
                    idx.put(key8(target), value16Varying(target, id + writes));
                } else {
                    idx.remove(key8(target));
                }
                writes++;
                assertThat(idx.growth()).as("seed %d, write %d", SEED, writes).isEqualTo(idx.inspect().growth());
            }
            assertThat(idx.growth().growing()).as("still growing after 20 writes of 128 old buckets").isTrue();
            idx.closeLeavingGrowth();
        }
        try (HashIndex readOnly = HashIndex.openReadOnly(path)) {
            assertThat(readOnly.growth()).as("counted once after a read-only open").isEqualTo(readOnly.inspect().growth());
        }
        try (HashIndex idx = HashIndex.open(path)) {
            Inspection.Growth reopened = idx.growth();
            assertThat(reopened).isEqualTo(idx.inspect().growth());
            assertThat(reopened.evacuated()).isGreaterThan(reopened.evacuatedMark());
            while (idx.growth().growing()) {
                idx.put(key8(id), value16Varying(id, id));
                id++;
                assertThat(idx.growth()).as("seed %d, put %d after reopening", SEED, id).isEqualTo(idx.inspect().growth());
            }
            assertThat(idx.growth()).isEqualTo(new Inspection.Growth(false, false, 0, 0, 0, 0));
        }
    }
}
