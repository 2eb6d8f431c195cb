package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link HashIndex#plan} predicts exactly the file that {@link HashIndex#create} lays out. */
class PlanTest {

    @ParameterizedTest(name = "key {0} value {1} expected {2} chunk {3}")
    @CsvSource({
            "16, 16, 0, 1073741824",
            "16, 16, 1, 1073741824",
            "16, 16, 100000, 1073741824",
            "5, 88, 34884, 1073741824",
            "12, 20, 20000, 4096",      // many chunks, each ending in unused bytes
            "64, 1000, 3000, 65536"
    })
    void planMatchesTheCreatedFileExactly(int keyWidth, int valueWidth, long expected, long chunk, @TempDir Path dir)
            throws Exception {
        Options options = Options.widths(keyWidth, valueWidth).expectedEntries(expected).chunkSize(chunk).seed(7);
        Plan plan = HashIndex.plan(options);
        Path path = dir.resolve("planned.hidx");
        try (HashIndex idx = HashIndex.create(path, options)) {
            Header h = idx.table().h;
            assertThat(plan.buckets()).isEqualTo(h.bucketCount);
            assertThat(plan.reservedOverflowPages()).isEqualTo(h.freeCells);
            assertThat(plan.pageBytes()).isEqualTo(h.stride);
            assertThat(plan.fileBytes()).isEqualTo(idx.inspect().fileBytes());
        }
        assertThat(Files.size(path)).isEqualTo(plan.fileBytes());
    }

    @ParameterizedTest(name = "cells {0}")
    @CsvSource({"0", "1", "12", "13", "25", "1000"})
    void staticEndOfCellsIsTheLayoutsFormula(long cells, @TempDir Path dir) {
        Options options = Options.widths(12, 20).expectedEntries(10_000).chunkSize(4096).seed(1);
        try (HashIndex idx = HashIndex.create(dir.resolve("f.hidx"), options)) {
            BucketLayout layout = idx.table().layout;
            assertThat(BucketLayout.endOfCells(cells, layout.stride, 4096)).isEqualTo(layout.endOfCells(cells));
            if (cells > 0) {
                assertThat(layout.endOfCells(cells)).isEqualTo(layout.cellOffset(cells - 1) + layout.stride);
            }
        }
    }
}
