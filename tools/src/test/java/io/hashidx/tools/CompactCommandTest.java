package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Inspection;
import io.hashidx.store.Options;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompactCommandTest {
    @TempDir
    Path dir;

    private Path file;
    private final Map<String, String> model = new HashMap<>();

    /** 20,000 random entries put into a file that grew from one bucket, with some removed again. */
    @BeforeEach
    void grow() {
        file = dir.resolve("grown.hidx");
        SplittableRandom rnd = new SplittableRandom(11);
        try (HashIndex idx = HashIndex.create(file, Options.widths(12, 20).seed(99))) {
            for (int i = 0; i < 20_000; i++) {
                byte[] k = new byte[rnd.nextInt(13)];
                rnd.nextBytes(k);
                byte[] v = new byte[rnd.nextInt(21)];
                rnd.nextBytes(v);
                idx.put(k, v);
                model.put(hex(k), hex(v));
            }
            int removed = 0;
            for (String k : model.keySet().toArray(String[]::new)) {
                if (removed++ % 3 == 0) {
                    idx.remove(HexFormat.of().parseHex(k));
                    model.remove(k);
                }
            }
            idx.finishGrowth();
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static Map<String, String> contents(Path path) {
        Map<String, String> m = new HashMap<>();
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            idx.forEach((k, v) -> assertThat(m.put(hex(k), hex(v))).as("key returned once").isNull());
        }
        return m;
    }

    private static Inspection inspect(Path path) {
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            assertThat(idx.verify()).isEmpty();
            return idx.inspect();
        }
    }

    @Test
    void grownFileCompactsInPlaceToASmallerFileWithTheSameEntriesWidthsAndSeed() throws Exception {
        Inspection before = inspect(file);
        assertThat(before.doublings()).isPositive();
        assertThat(before.growthSlackBytes()).isPositive();
        Files.writeString(dir.resolve("grown.hidx.compact-tmp"), "left by a crashed run", UTF_8);

        Cli compact = Cli.run("compact", file.toString());

        assertThat(compact.exitCode()).as(compact.toString()).isZero();
        Inspection after = inspect(file);
        assertThat(after.fileBytes()).isLessThan(before.fileBytes()).isEqualTo(Files.size(file));
        assertThat(after.growthSlackBytes()).isZero();
        assertThat(after.doublings()).isZero();
        assertThat(after.entries()).isEqualTo(model.size());
        assertThat(after.seed()).isEqualTo(before.seed());
        assertThat(after.keyWidth()).isEqualTo(12);
        assertThat(after.valueWidth()).isEqualTo(20);
        assertThat(contents(file)).isEqualTo(model);
        assertThat(dir.resolve("grown.hidx.compact-tmp")).doesNotExist();
        assertThat(compact.out()).startsWith("compacted " + file + "\n")
                .contains("entries             " + Figures.count(model.size()) + " -> " + Figures.count(model.size()))
                .contains("file bytes before   " + Figures.bytes(before.fileBytes()) + "\n")
                .contains("file bytes after    " + Figures.bytes(after.fileBytes()) + "\n");
    }

    @Test
    void toWritesOutAndLeavesTheSourceUnchanged() throws Exception {
        byte[] original = Files.readAllBytes(file);
        Path out = dir.resolve("out.hidx");

        Cli compact = Cli.run("compact", file.toString(), "--to", out.toString(), "--json");

        assertThat(compact.exitCode()).as(compact.toString()).isZero();
        assertThat(Files.readAllBytes(file)).isEqualTo(original);
        assertThat(contents(out)).isEqualTo(model);
        Inspection compacted = inspect(out);
        assertThat(compacted.growthSlackBytes()).isZero();
        assertThat(compact.json()).containsEntry("written", out.toString())
                .containsEntry("entries_after", (long) model.size())
                .containsEntry("file_bytes_before", (long) original.length)
                .containsEntry("file_bytes_after", Files.size(out))
                .containsEntry("growth_slack_bytes_after", 0L);
    }

    @Test
    void existingOutIsAUsageErrorAndNothingIsWritten() throws Exception {
        Path out = Files.writeString(dir.resolve("taken.hidx"), "mine", UTF_8);

        Cli compact = Cli.run("compact", file.toString(), "--to", out.toString());

        assertThat(compact.exitCode()).isEqualTo(Main.USAGE_ERROR);
        assertThat(compact.err()).contains("OUT " + out + " exists");
        assertThat(Files.readString(out)).isEqualTo("mine");
    }

    @Test
    void missingFileIsAHashidxErrorAndLeavesNoTemporary() {
        Path missing = dir.resolve("missing.hidx");

        Cli compact = Cli.run("compact", missing.toString());

        assertThat(compact.exitCode()).as(compact.toString()).isEqualTo(Main.HASHIDX_ERROR);
        assertThat(compact.err()).startsWith("hashidx: HIDX-");
        assertThat(dir.resolve("missing.hidx.compact-tmp")).doesNotExist();
    }

    @Test
    void fileOpenForWritingIsRefusedAsLockedAndStaysUnchanged() throws Exception {
        byte[] original = Files.readAllBytes(file);
        Cli compact;
        try (HashIndex writer = HashIndex.open(file)) {
            compact = Cli.run("compact", file.toString());
        }

        assertThat(compact.exitCode()).as(compact.toString()).isEqualTo(Main.HASHIDX_ERROR);
        assertThat(compact.err()).contains("HIDX-004");
        assertThat(dir.resolve("grown.hidx.compact-tmp")).doesNotExist();
        assertThat(contents(file)).isEqualTo(model);
        assertThat(Files.size(file)).isEqualTo(original.length);
    }

    @Test
    void aReadOnlyFileIsRefusedInPlaceButCompactsWithTo() throws Exception {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
        byte[] original = Files.readAllBytes(file);

        Cli inPlace = Cli.run("compact", file.toString());
        Cli elsewhere = Cli.run("compact", file.toString(), "--to", dir.resolve("out.hidx").toString());

        assertThat(inPlace.exitCode()).isEqualTo(2);
        assertThat(inPlace.err()).isEqualTo("hashidx: HIDX-009 read only: " + file + ": the file is "
                + "read-only (its permissions allow no writing) and compact would replace it; make it writable "
                + "(chmod u+w), or write the compacted copy elsewhere with --to OUT\n");
        assertThat(Files.readAllBytes(file)).isEqualTo(original);
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("r--r--r--"));
        assertThat(dir.resolve("grown.hidx.compact-tmp")).doesNotExist();
        assertThat(elsewhere.exitCode()).as(elsewhere.toString()).isZero();
        assertThat(contents(dir.resolve("out.hidx"))).isEqualTo(model);
    }

    @Test
    void theCompactedFileKeepsThePermissionsOfTheOriginal() throws Exception {
        Set<PosixFilePermission> mode = PosixFilePermissions.fromString("rw-r-----");
        Files.setPosixFilePermissions(file, mode);

        Cli compact = Cli.run("compact", file.toString());

        assertThat(compact.exitCode()).as(compact.toString()).isZero();
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(mode);
    }

    @Test
    void throughASymlinkTheFileItNamesIsCompactedAndTheLinkStays() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("link.hidx"), file.getFileName());
        long before = Files.size(file);

        Cli compact = Cli.run("compact", link.toString());

        assertThat(compact.exitCode()).as(compact.toString()).isZero();
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Files.size(file)).isLessThan(before);
        assertThat(contents(link)).isEqualTo(model);
        try (Stream<Path> files = Files.list(dir)) {
            // the reader table is named after the file the link names, not after the link
            assertThat(files).containsExactlyInAnyOrder(file, link, HashIndex.readerTable(file));
        }
    }

    @Test
    void aReaderInAnotherProcessMayStayButAWriterIsRefused() throws Exception {
        try (OtherProcess reader = OtherProcess.holding(file, false)) {
            Cli compact = Cli.run("compact", file.toString());
            assertThat(compact.exitCode()).as(compact.toString()).isZero();
        }
        assertThat(contents(file)).isEqualTo(model);
        try (OtherProcess writer = OtherProcess.holding(file, true)) {
            byte[] held = Files.readAllBytes(file); // as the writer's open left it
            Cli compact = Cli.run("compact", file.toString());
            assertThat(compact.exitCode()).isEqualTo(2);
            assertThat(compact.err()).startsWith("hashidx: HIDX-004 locked: " + file + ": another process has the "
                    + "file open for writing, and 'hashidx compact' reads a file only while nobody writes it");
            assertThat(Files.readAllBytes(file)).as("the refused compact changed nothing").isEqualTo(held);
        }
        assertThat(contents(file)).isEqualTo(model);
    }

    @Test
    void helpHasAnExample() {
        Cli help = Cli.run("compact", "--help");

        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("hashidx compact grown.hidx --to compacted.hidx")
                .contains("  2   error: usage (e.g. OUT exists)").doesNotContain("  3   ");
    }
}
