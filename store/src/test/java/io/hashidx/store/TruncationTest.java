package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A grown file cut short at every 4 KiB boundary and at random byte offsets either fails to open with
 * CORRUPT or NOT_HASHIDX_FILE, or (when only unused space was cut) opens with every key and a clean
 * verify. Nothing else is ever thrown, and nothing hangs.
 */
class TruncationTest {
    private static final long SEED = Long.getLong("hashidx.test.seed", 0x7A11L);
    private static final int KEYS = 3000;

    @TempDir
    Path dir;

    @Test
    void aTruncatedFileFailsWithCorruptOrOpensWithEveryKey() throws Exception {
        Path grown = dir.resolve("grown.hidx");
        long usedEnd;
        try (HashIndex idx = HashIndex.create(grown, Options.widths(8, 16).seed(SEED))) {
            for (long id = 0; id < KEYS; id++) {
                idx.put(Fixtures.key8(id), Fixtures.value16Varying(id, id));
            }
            for (long id = 0; id < KEYS; id += 3) {
                idx.remove(Fixtures.key8(id));
            }
            idx.finishGrowth();
            Header h = idx.table().h;
            assertThat(h.doublings).isGreaterThanOrEqualTo(8);
            assertThat(h.overflowPages).isPositive();
            usedEnd = idx.table().layout.endOfCells(h.allocatedCells);
        }
        long size = Files.size(grown);
        TreeSet<Long> cuts = new TreeSet<>();
        for (long at = 0; at < size; at += 4096) {
            cuts.add(at);
        }
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int i = 0; i < 50; i++) {
            cuts.add(rnd.nextLong(size));
        }
        cuts.add(usedEnd);
        cuts.add(usedEnd - 1);
        int opened = 0;
        int refused = 0;
        List<String> failures = new ArrayList<>();
        Path copy = dir.resolve("cut.hidx");
        for (long cut : cuts) {
            Files.copy(grown, copy, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            String outcome = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> openAndCheck(copy, cut));
            if (outcome.equals("opened")) {
                opened++;
            } else if (outcome.startsWith("refused")) {
                refused++;
            } else {
                failures.add(outcome);
            }
        }
        System.out.printf("TruncationTest: %d cuts of a %d-byte file (cells end at %d): %d opened, %d refused%n",
                cuts.size(), size, usedEnd, opened, refused);
        assertThat(failures).as("seed %d", SEED).isEmpty();
    }

    /** "opened", "refused ..." or a description of a wrong outcome. */
    private static String openAndCheck(Path copy, long cut) throws IOException {
        try (HashIndex idx = HashIndex.open(copy)) {
            for (long id = 0; id < KEYS; id++) {
                byte[] expected = id % 3 == 0 ? null : Fixtures.value16Varying(id, id);
                byte[] actual = idx.get(Fixtures.key8(id));
                if (!java.util.Arrays.equals(expected, actual)) {
                    return "cut at " + cut + ": opened, but key " + id + " reads " + Bytes.hex(actual);
                }
            }
            List<String> problems = idx.verify();
            return problems.isEmpty() ? "opened" : "cut at " + cut + ": opened, verify: " + problems;
        } catch (HashIndexException e) {
            if ((e.code() == HashIndexException.Code.CORRUPT || e.code() == HashIndexException.Code.NOT_HASHIDX_FILE)
                    && e.getMessage().contains(copy.toString())) {
                return "refused " + e.getMessage();
            }
            return "cut at " + cut + ": " + e;
        } catch (RuntimeException | Error e) {
            return "cut at " + cut + ": " + e;
        }
    }
}
