package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files damaged on purpose ({@link DamagedFiles}): verify names each problem; inspect --bucket names the
 * bucket's chain problem and the whole-file inspect summarises what it can reach; nothing hangs or crashes.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DamagedFileTest {
    private static final int ENTRIES = DamagedFiles.SAMPLE_ENTRIES;

    @TempDir
    Path dir;

    private Path file;
    private DamagedFiles damage;

    @BeforeEach
    void create() {
        file = dir.resolve("d.hidx");
        damage = new DamagedFiles(file);
        DamagedFiles.createSample(file);
        assertThat(Cli.run("verify", file.toString())).isEqualTo(new Cli(0, "ok\n", ""));
    }

    @Test
    void aFlippedBitInHeaderCopyAIsReportedAndTheFileStillReads() throws IOException {
        damage.flipBit(DamagedFiles.BUCKET_COUNT);

        Cli verify = Cli.run("verify", file.toString());
        Cli inspect = Cli.run("inspect", "--json", file.toString());
        Cli text = Cli.run("inspect", file.toString());

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).isEqualTo("header copy A at file offset 0 is damaged (bad checksum or fields); "
                + "the other copy was used, and opening the file read-write rewrites both\n");
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(inspect.json()).containsEntry("count", (long) ENTRIES);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> copies = (List<Map<String, Object>>) inspect.json().get("header_copies");
        assertThat(copies.get(0)).containsEntry("copy", "A").containsEntry("valid", false);
        assertThat(copies.get(1)).containsEntry("copy", "B").containsEntry("valid", true);
        assertThat(text.out()).containsPattern("header copy A +generation -?\\d+, damaged\n");
        assertThat(Cli.run("get", file.toString(), "key-7")).isEqualTo(new Cli(0, "value-7\n", ""));
    }

    @Test
    void aFlippedBitInHeaderCopyBIsReportedAndTheFileStillReads() throws IOException {
        damage.flipBit(DamagedFiles.COPY_B + DamagedFiles.BUCKET_COUNT);

        Cli verify = Cli.run("verify", file.toString());
        Cli inspect = Cli.run("inspect", file.toString());

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).isEqualTo("header copy B at file offset " + DamagedFiles.COPY_B + " is damaged (bad checksum or "
                + "fields); the other copy was used, and opening the file read-write rewrites both\n");
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(inspect.out()).containsPattern("header copy A +generation -?\\d+, valid\n")
                .containsPattern("header copy B +generation -?\\d+, damaged\n")
                .containsPattern("entries +" + ENTRIES + "\n");
        assertThat(Cli.run("get", file.toString(), "key-7")).isEqualTo(new Cli(0, "value-7\n", ""));
    }

    @Test
    void aFlippedBitInBothHeaderCopiesCannotBeReadAtAll() throws IOException {
        damage.flipBit(DamagedFiles.BUCKET_COUNT);
        damage.flipBit(DamagedFiles.COPY_B + DamagedFiles.BUCKET_COUNT);

        for (String command : new String[] {"verify", "inspect"}) {
            Cli result = Cli.run(command, file.toString());
            assertThat(result.exitCode()).as(result.toString()).isEqualTo(2);
            assertThat(result.out()).isEmpty();
            assertThat(result.err()).startsWith("hashidx: HIDX-003 corrupt: " + file).contains("both header copies")
                    .hasLineCount(1);
        }
    }

    @Test
    void anOverflowLinkOutsideTheFileIsNamedWithItsOffset() throws IOException {
        long bucket = damage.bucketWithoutOverflow(0);
        long cell = damage.primaryCell(bucket);
        damage.writeLong(damage.cellOffset(cell) + DamagedFiles.OVERFLOW, 1_000_000 + 1);

        Cli verify = Cli.run("verify", file.toString());
        Cli inspect = Cli.run("inspect", file.toString());
        Cli one = Cli.run("inspect", file.toString(), "--bucket", String.valueOf(bucket));

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).contains("bucket " + bucket + " overflow page linked from cell " + cell
                + " (file offset " + damage.cellOffset(cell) + "): cell 1000000 is outside the ");
        // the whole-file summary counts what it can reach; verify and --bucket name the link
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(one.exitCode()).as(one.toString()).isZero();
        assertThat(one.out()).contains("overflow cell 1000000").contains("chain problem", "outside the");
    }

    @Test
    void anOverflowCycleIsReportedAndHangsNothing() throws IOException {
        long bucket = damage.bucketWithoutOverflow(0);
        long cell = damage.primaryCell(bucket);
        damage.writeLong(damage.cellOffset(cell) + DamagedFiles.OVERFLOW, cell + 1); // the bucket links to itself

        Cli verify = Cli.run("verify", file.toString());
        Cli inspect = Cli.run("inspect", "--json", file.toString());
        Cli one = Cli.run("inspect", "--json", file.toString(), "--bucket", String.valueOf(bucket));

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).contains("cell " + cell + " (file offset " + damage.cellOffset(cell) + ") is used twice");
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(one.exitCode()).as(one.toString()).isZero();
        assertThat((String) one.json().get("chain_problem")).contains("links back to cell " + cell, "cycle");
        assertThat((List<?>) one.json().get("pages")).hasSize(1);
    }

    @Test
    void aKeyInTheWrongBucketIsNamed() throws IOException {
        long a = damage.bucketWithoutOverflow(0);
        long b = damage.bucketWithoutOverflow(a + 1);
        damage.swapCells(damage.primaryCell(a), damage.primaryCell(b));

        Cli verify = Cli.run("verify", file.toString());

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        long cell = damage.primaryCell(a);
        assertThat(verify.out()).contains("cell " + cell + " (file offset " + damage.cellOffset(cell)
                + ") slot 0: key belongs in bucket " + b + ", found in " + a);
    }

    @Test
    void aWrongLiveCountIsNamed() throws IOException {
        // the count is live_count plus the writer lanes' shares (FORMAT.md section 4): the one writer's
        // lane holds all ENTRIES, so a base count of 5 claims 5 entries too many
        damage.writeLong(DamagedFiles.LIVE_COUNT, 5);

        Cli verify = Cli.run("verify", "--json", file.toString());

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.json()).containsEntry("ok", false)
                .containsEntry("problems", List.of("count is " + (ENTRIES + 5) + " but " + ENTRIES + " entries are "
                        + "reachable (live_count at file offset " + DamagedFiles.LIVE_COUNT + ")"));
    }
}
