package io.hashidx.store;

import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HashIndex#inspectBucket(long)} shows every page and slot of a chain, also mid-growth and on a cycle. */
class InspectBucketTest {
    @TempDir
    Path dir;

    @Test
    void showsEveryLiveEntryOfTheBucketWithItsCellAndOffset() {
        Path path = dir.resolve("b.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(7))) {
            for (int i = 0; i < 200; i++) {
                idx.put(key16(i), value16(i, 0));
            }
            long buckets = idx.table().h.bucketCount;
            long live = 0;
            for (long b = 0; b < buckets; b++) {
                BucketView v = idx.inspectBucket(b);
                assertThat(v.bucket()).isEqualTo(b);
                assertThat(v.chainProblem()).isNull();
                assertThat(v.pages().getFirst().cell()).isEqualTo(idx.table().h.bucketsCell + b);
                for (BucketView.Page p : v.pages()) {
                    assertThat(p.fileOffset()).isEqualTo(idx.table().layout.cellOffset(p.cell()));
                    assertThat(p.slots()).hasSize(8);
                    for (BucketView.Slot s : p.slots()) {
                        if (s.tophash() >= BucketLayout.MIN_TOPHASH) {
                            assertThat(s.state()).isEqualTo("tophash");
                            assertThat(idx.get(s.key())).isEqualTo(s.value());
                            live++;
                        } else {
                            assertThat(s.key()).isNull();
                        }
                    }
                }
            }
            assertThat(live).isEqualTo(200);
            assertThat(idx.inspectBucket(buckets - 1).bucket()).isEqualTo(buckets - 1);
            Fixtures.assertFails(() -> idx.inspectBucket(buckets), HashIndexException.State.class,
                    HashIndexException.Code.INVALID_ARGUMENT, path, "out of range");
        }
    }

    @Test
    void midGrowthShowsTheOldBucketWhileItIsNotEvacuated() {
        Path path = dir.resolve("g.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(7))) {
            Header h = idx.table().h;
            long next = 0;
            while (!(h.growing() && h.oldBucketCount == 64)) {
                idx.put(key16(next), value16(next, 0));
                next++;
            }
            idx.closeLeavingGrowth();
        }
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            Header h = idx.table().h;
            List<Boolean> evacuated = new ArrayList<>();
            for (long b = 0; b < h.bucketCount; b++) {
                BucketView v = idx.inspectBucket(b);
                assertThat(v.growing()).isTrue();
                assertThat(v.oldBucket()).isEqualTo(b / 2);
                evacuated.add(v.oldEvacuated());
                if (v.oldEvacuated()) {
                    assertThat(v.oldPages()).isEmpty();
                } else {
                    assertThat(v.oldPages().getFirst().cell()).isEqualTo(h.oldBucketsCell + b / 2);
                }
            }
            assertThat(evacuated).contains(true, false);
        }
    }

    @Test
    void anOverflowCycleStopsTheWalkAndIsReported() {
        Path path = dir.resolve("c.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(7))) {
            idx.put(key16(1), value16(1, 0));
            long cell = idx.table().h.bucketsCell;
            idx.table().layout.setOverflow(cell, cell); // bucket 0 links to itself

            BucketView v = idx.inspectBucket(0);

            assertThat(v.chainProblem()).contains("cycle");
            assertThat(v.pages()).hasSize(1);
            assertThat(v.chainProblem()).contains("cell " + cell + " (file offset " + idx.table().layout.cellOffset(cell)
                    + ") links back to cell " + cell);
            assertThat(idx.verify()).anyMatch(p -> p.contains("used twice"));
            assertThat(idx.inspect().entries()).isEqualTo(1);
            idx.table().layout.setOverflow(cell, BucketLayout.NONE);
        }
    }
}
