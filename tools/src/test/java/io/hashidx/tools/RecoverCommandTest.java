package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hashidx recover} on files damaged on purpose ({@link DamagedFiles}): everything outside the
 * damage reaches OUT with its value, each problem is listed with its offset, and the exit code says
 * whether anything was lost (0), lost or unsure (1), or the file could not be read at all (2).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RecoverCommandTest {
    @TempDir
    Path dir;

    private Path file;
    private Path out;
    private DamagedFiles damage;
    private Map<String, String> entries;

    @BeforeEach
    void create() {
        file = dir.resolve("damaged.hidx");
        out = dir.resolve("rescued.hidx");
        entries = DamagedFiles.createSample(file);
        damage = new DamagedFiles(file);
    }

    private Cli recover(String... options) {
        String[] args = new String[options.length + 3];
        args[0] = "recover";
        System.arraycopy(options, 0, args, 1, options.length);
        args[options.length + 1] = file.toString();
        args[options.length + 2] = out.toString();
        return Cli.run(args);
    }

    /** OUT holds a part of the entries, each with its value; returns how many. */
    private int assertOutHoldsOnlyOriginalEntries() {
        Map<String, String> rescued = DamagedFiles.contentOf(out);
        assertThat(entries).containsAllEntriesOf(rescued);
        return rescued.size();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> problems(Cli result) {
        return (List<Map<String, Object>>) result.json().get("problems");
    }

    @Test
    void anUndamagedFileIsCopiedWholeWithItsWidthsAndSeed() {
        Cli result = recover();

        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.err()).isEmpty();
        assertThat(result.out()).startsWith("recovered 100 of 100 entries from " + file + " into " + out + "\n"
                        + "header              header copy A\n"
                        + "key width           8 bytes\n"
                        + "value width         8 bytes\n"
                        + "seed                0x000000000000002a\n")
                .contains("entries lost        0\n", "problems            0\n")
                .endsWith("complete: every entry the file recorded was recovered\n");
        assertThat(DamagedFiles.contentOf(out)).isEqualTo(entries);
        try (HashIndex copy = HashIndex.openReadOnly(out)) {
            assertThat(copy.seed()).isEqualTo(42);
            assertThat(copy.keyWidth()).isEqualTo(8);
            assertThat(copy.valueWidth()).isEqualTo(8);
        }
    }

    @Test
    void aFlippedBitInOneHeaderCopyIsListedAndNothingIsLost() throws IOException {
        damage.flipBit(DamagedFiles.BUCKET_COUNT);

        Cli result = recover();

        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.out()).contains("header              header copy B\n",
                "  offset 0       header_copy      header copy A at file offset 0 is damaged (checksum mismatch");
        assertThat(DamagedFiles.contentOf(out)).isEqualTo(entries);
    }

    @Test
    void bothHeaderCopiesUnusableAreScannedWithTheWidthsTheyStillHoldAndExit1() throws IOException {
        damage.writeLong(DamagedFiles.BUCKET_COUNT, 1L << 40);
        damage.writeLong(DamagedFiles.COPY_B + DamagedFiles.BUCKET_COUNT, 1L << 40);

        Cli result = recover("--json");

        assertThat(result.exitCode()).as(result.toString()).isEqualTo(1);
        assertThat(result.json()).containsEntry("scanned", true).containsEntry("complete", false)
                .containsEntry("recovered_entries", 100L).containsEntry("expected_entries", 100L)
                .containsEntry("lost_entries", 0L).containsEntry("seed", "0x000000000000002a")
                .containsEntry("header", "scan with the widths of damaged header copy A");
        assertThat(problems(result).getFirst()).containsEntry("kind", "headers").containsEntry("file_offset", 0L);
        assertThat(DamagedFiles.contentOf(out)).isEqualTo(entries);
    }

    @Test
    void aWipedHeaderPageIsRefusedWithoutWidthsAndScannedWithThem() throws IOException {
        damage.write(0, new byte[1024]);

        Cli refused = recover();
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(2);
        assertThat(refused.err()).startsWith("hashidx: HIDX-001 not hashidx file: " + file)
                .contains("give its key and value widths").hasLineCount(1);
        assertThat(out).doesNotExist();

        Cli scanned = recover("--key-size", "8", "--value-size", "8", "--json");
        assertThat(scanned.exitCode()).as(scanned.toString()).isEqualTo(1);
        assertThat(scanned.json()).containsEntry("seed", null).containsEntry("recovered_entries", 100L)
                .containsEntry("header", "scan with the widths given (key 8, value 8 bytes)");
        assertThat(DamagedFiles.contentOf(out)).isEqualTo(entries);
    }

    @Test
    void aBrokenOverflowLinkLosesOnlyThePagesBehindIt() throws IOException {
        long bucket = damage.bucketWithOverflow();
        long cell = damage.primaryCell(bucket);
        long linkAt = damage.cellOffset(cell) + DamagedFiles.OVERFLOW;
        damage.writeLong(linkAt, 1_000_000 + 1);

        Cli result = recover("--json");

        assertThat(result.exitCode()).as(result.toString()).isEqualTo(1);
        int rescued = assertOutHoldsOnlyOriginalEntries();
        assertThat(rescued).isBetween(90, 99);
        assertThat(result.json()).containsEntry("complete", false).containsEntry("chains_cut", 1L)
                .containsEntry("recovered_entries", (long) rescued).containsEntry("lost_entries", 100L - rescued);
        assertThat(problems(result)).singleElement().satisfies(p -> {
            assertThat(p).containsEntry("kind", "overflow_link").containsEntry("file_offset", linkAt);
            assertThat((String) p.get("description")).startsWith("bucket " + bucket + ": the overflow link of cell "
                    + cell + " names cell 1000000, outside the ");
        });
    }

    @Test
    void aCycleIsCutAndLosesNothing() throws IOException {
        long bucket = damage.bucketWithoutOverflow(0);
        long cell = damage.primaryCell(bucket);
        long linkAt = damage.cellOffset(cell) + DamagedFiles.OVERFLOW;
        damage.writeLong(linkAt, cell + 1); // the bucket links to itself

        Cli result = recover();

        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.out()).contains("chains cut          1\n", "  offset " + linkAt + "    cycle            bucket "
                + bucket + ": the overflow link of cell " + cell + " names cell " + cell + ", a page already read");
        assertThat(DamagedFiles.contentOf(out)).isEqualTo(entries);
    }

    @Test
    void garbageInABucketLosesItsSlotsOnly() throws IOException {
        long bucket = damage.bucketWithoutOverflow(0);
        int live = damage.liveSlots(bucket);
        byte[] garbage = new byte[damage.stride() - DamagedFiles.SLOTS];
        new SplittableRandom(7).nextBytes(garbage);
        damage.write(damage.cellOffset(damage.primaryCell(bucket)) + DamagedFiles.SLOTS, garbage);

        Cli result = recover("--json");

        assertThat(result.exitCode()).as(result.toString()).isEqualTo(1);
        assertThat(assertOutHoldsOnlyOriginalEntries()).isEqualTo(100 - live);
        assertThat(result.json()).containsEntry("unreadable_slots", (long) live).containsEntry("lost_entries", (long) live);
        assertThat(problems(result)).hasSize(live).allSatisfy(p -> assertThat(p).containsEntry("kind", "bad_slot"));
    }

    @Test
    void aTruncatedFileKeepsTheBucketsBeforeTheCut() throws IOException {
        long cut = damage.cellOffset(damage.primaryCell(damage.bucketCount() / 2)) + 7;
        damage.truncate(cut);

        Cli result = recover("--json");

        assertThat(result.exitCode()).as(result.toString()).isEqualTo(1);
        int rescued = assertOutHoldsOnlyOriginalEntries();
        assertThat(rescued).isBetween(1, 99);
        assertThat(result.json()).containsEntry("lost_entries", 100L - rescued);
        assertThat(problems(result)).extracting(p -> p.get("kind")).contains("truncated", "missing_buckets");
        assertThat(problems(result).getFirst()).containsEntry("kind", "truncated").containsEntry("file_offset", cut);
    }

    @Test
    void filesThatCannotBeReadAndBadArgumentsExitWith2() throws IOException {
        Cli onlyKeySize = recover("--key-size", "8");
        assertThat(onlyKeySize.exitCode()).isEqualTo(2);
        assertThat(onlyKeySize.err()).contains("give both --key-size and --value-size, or neither");

        Files.writeString(out, "taken");
        Cli outExists = recover();
        assertThat(outExists.exitCode()).isEqualTo(2);
        assertThat(outExists.err()).contains("OUT " + out + " exists");
        Files.delete(out);

        damage.truncate(1000);
        Cli tooShort = recover();
        assertThat(tooShort.exitCode()).as(tooShort.toString()).isEqualTo(2);
        assertThat(tooShort.err()).startsWith("hashidx: HIDX-003 corrupt: " + file).contains("truncated");
        assertThat(out).doesNotExist();

        Files.delete(file);
        Cli missing = recover();
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).startsWith("hashidx: HIDX-011").contains("no such file");
    }

    @Test
    void helpExplainsTheFallbackAndTheExitCodes() {
        Cli help = Cli.run("recover", "--help");

        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).startsWith("Usage: hashidx recover").contains("--key-size", "scanned",
                "hashidx recover damaged.hidx rescued.hidx", "Exit codes:", "  0   every entry DAMAGED recorded was recovered",
                "  1   entries were lost", "  2   error: usage");
    }
}
