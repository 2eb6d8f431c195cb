package io.hashidx.store;

import static io.hashidx.store.Fixtures.assertFails;
import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hashidx.store.HashIndexException.Code;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every error names the file and carries its stable code; a bad file is refused, never guessed at. */
class ErrorPathsTest {
    private static final int ENTRIES = 300;

    @TempDir
    Path dir;
    private Path path;

    @BeforeEach
    void setUp() {
        path = dir.resolve("index.hidx");
    }

    private void createWithEntries() {
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(3))) {
            for (int i = 0; i < ENTRIES; i++) {
                idx.put(key16(i), value16(i, 0));
            }
        }
    }

    private static void assertHoldsTheEntries(HashIndex idx) {
        assertThat(idx.size()).isEqualTo(ENTRIES);
        for (int i = 0; i < ENTRIES; i++) {
            assertThat(idx.get(key16(i))).as("entry %d", i).isEqualTo(value16(i, 0));
        }
        assertThat(idx.verify()).isEmpty();
    }

    // ---------------------------------------------------------------- not an index file

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {100, 4096, 10_000})
    void aFileOfRandomBytesIsNotAHashidxFile(int size) throws IOException {
        byte[] junk = new byte[size];
        new SplittableRandom(size).nextBytes(junk);
        Files.write(path, junk);
        assertFails(() -> HashIndex.open(path), HashIndexException.FileFormat.class, Code.NOT_HASHIDX_FILE, path,
                "not a hashidx index file");
        assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.FileFormat.class, Code.NOT_HASHIDX_FILE, path,
                "not a hashidx index file");
        assertThat(Files.readAllBytes(path)).as("a refused file is left as it was").isEqualTo(junk);
    }

    @Test
    void anEmptyFileIsNotAHashidxFile() throws IOException {
        Files.createFile(path);
        assertFails(() -> HashIndex.open(path), HashIndexException.FileFormat.class, Code.NOT_HASHIDX_FILE, path,
                "the file is empty");
        assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.FileFormat.class, Code.NOT_HASHIDX_FILE, path,
                "the file is empty");
        assertThat(Files.size(path)).isZero();
    }

    // ---------------------------------------------------------------- damaged files

    @Test
    void aFileTruncatedAfterCreationIsCorruptAndSaysTruncated() throws IOException {
        long need;
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(3))) {
            for (int i = 0; i < ENTRIES; i++) {
                idx.put(key16(i), value16(i, 0));
            }
            need = idx.table().layout.endOfCells(idx.table().h.allocatedCells);
        }
        for (long size : new long[] {need - 1, MappedFile.DATA_START + 10, MappedFile.DATA_START, 100, 8}) {
            truncate(size);
            assertThatThrownBy(() -> HashIndex.open(path)).as("truncated to %d bytes", size)
                    .isInstanceOfSatisfying(HashIndexException.FileFormat.class, e -> {
                        assertThat(e.code()).isEqualTo(Code.CORRUPT);
                        assertThat(e.file()).isEqualTo(path);
                        assertThat(e.offset()).isEqualTo(size);
                        assertThat(e.getMessage()).contains(path.toString()).contains("truncated")
                                .contains(size + " bytes");
                    });
            assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.FileFormat.class, Code.CORRUPT, path,
                    "truncated");
        }
    }

    @Test
    void bothHeaderCopiesDamagedIsCorrupt() throws IOException {
        createWithEntries();
        patchHeaderPage(page -> {
            flip(page, Header.COPY_A + Header.GENERATION_OFFSET);
            flip(page, Header.COPY_B + Header.KEY_WIDTH_OFFSET);
        });
        assertFails(() -> HashIndex.open(path), HashIndexException.FileFormat.class, Code.CORRUPT, path,
                "both header copies are damaged", "checksum mismatch");
        assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.FileFormat.class, Code.CORRUPT, path,
                "both header copies are damaged");
    }

    @ParameterizedTest(name = "damaged copy {0}")
    @ValueSource(strings = {"A", "B"})
    void oneDamagedHeaderCopyIsReportedAndTheOtherIsUsedThenRepairedByAWriter(String which) throws IOException {
        createWithEntries();
        int base = which.equals("A") ? Header.COPY_A : Header.COPY_B;
        patchHeaderPage(page -> flip(page, base + Header.BUCKET_COUNT_OFFSET));
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            Inspection inspection = ro.inspect();
            assertThat(inspection.copyA().valid()).as("copy A valid").isEqualTo(!which.equals("A"));
            assertThat(inspection.copyB().valid()).as("copy B valid").isEqualTo(which.equals("A"));
            assertThat(ro.size()).isEqualTo(ENTRIES);
            assertThat(ro.verify()).as("verify names the damaged copy and its offset").containsExactly("header copy "
                    + which + " at file offset " + base + " is damaged (bad checksum or fields); the other copy was "
                    + "used, and opening the file read-write rewrites both");
        }
        try (HashIndex rw = HashIndex.open(path)) {
            assertHoldsTheEntries(rw);
        }
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            Inspection inspection = ro.inspect();
            assertThat(inspection.copyA().valid()).as("copy A valid after a writer opened the file").isTrue();
            assertThat(inspection.copyB().valid()).as("copy B valid after a writer opened the file").isTrue();
            assertThat(inspection.copyA().generation()).isEqualTo(inspection.copyB().generation());
            assertHoldsTheEntries(ro);
        }
    }

    @Test
    void aNonZeroReservedByteInTheHeaderPageIsCorrupt() throws IOException {
        createWithEntries();
        patchHeaderPage(page -> page.put(Header.LIVE_END + 100, (byte) 1));
        assertFails(() -> HashIndex.open(path), HashIndexException.FileFormat.class, Code.CORRUPT, path,
                "reserved byte in the header page is not zero");
    }

    // ---------------------------------------------------------------- versions

    @Test
    void aFileFromANewerReadVersionIsRefused() throws IOException {
        createWithEntries();
        patchBothCopies(Header.READ_VERSION_OFFSET, Header.READ_VERSION + 1);
        assertFails(() -> HashIndex.open(path), HashIndexException.FileFormat.class, Code.UNSUPPORTED_VERSION, path,
                "read version " + (Header.READ_VERSION + 1), "upgrade hashidx");
        assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.FileFormat.class, Code.UNSUPPORTED_VERSION,
                path, "read version " + (Header.READ_VERSION + 1));
    }

    @Test
    void aFileFromANewerWriteVersionOpensReadOnlyButNotForWriting() throws IOException {
        createWithEntries();
        patchBothCopies(Header.WRITE_VERSION_OFFSET, Header.WRITE_VERSION + 1);
        assertFails(() -> HashIndex.open(path), HashIndexException.FileFormat.class, Code.UNSUPPORTED_VERSION, path,
                "write version " + (Header.WRITE_VERSION + 1), "open the file read-only");
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            assertThat(ro.inspect().writeVersion()).isEqualTo(Header.WRITE_VERSION + 1);
            assertHoldsTheEntries(ro);
        }
    }

    // ---------------------------------------------------------------- arguments and state

    @Test
    void keysAndValuesLongerThanTheWidthsAreRefusedNamingTheWidth() {
        try (HashIndex idx = HashIndex.create(path, Options.widths(12, 20).seed(1))) {
            idx.put(new byte[12], new byte[20]);
            byte[] longKey = new byte[13];
            assertFails(() -> idx.put(longKey, new byte[1]), HashIndexException.TooLong.class, Code.KEY_TOO_LONG, path,
                    "key of 13 bytes", "key width of 12 bytes");
            assertFails(() -> idx.get(longKey), HashIndexException.TooLong.class, Code.KEY_TOO_LONG, path, "key width of 12 bytes");
            assertFails(() -> idx.get(longKey, new byte[20]), HashIndexException.TooLong.class, Code.KEY_TOO_LONG, path);
            assertFails(() -> idx.contains(longKey), HashIndexException.TooLong.class, Code.KEY_TOO_LONG, path);
            assertFails(() -> idx.remove(longKey), HashIndexException.TooLong.class, Code.KEY_TOO_LONG, path);
            assertFails(() -> idx.put(new byte[3], new byte[21]), HashIndexException.TooLong.class, Code.VALUE_TOO_LONG,
                    path, "value of 21 bytes", "value width of 20 bytes");
            assertThat(idx.size()).as("refused writes change nothing").isEqualTo(1);
            assertThat(idx.contains(new byte[3])).isFalse();
            assertThat(idx.verify()).isEmpty();
        }
    }

    @Test
    void everyOperationAfterCloseFailsWithClosed() {
        HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(1));
        idx.put(key16(1), value16(1, 0));
        Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(1));
        idx.close();
        idx.close(); // closing twice is harmless
        Class<HashIndexException.State> state = HashIndexException.State.class;
        assertFails(() -> idx.put(key16(2), value16(2, 0)), state, Code.CLOSED, path, "closed");
        assertFails(() -> idx.get(key16(1)), state, Code.CLOSED, path);
        assertFails(() -> idx.get(key16(1), new byte[16]), state, Code.CLOSED, path);
        assertFails(() -> idx.contains(key16(1)), state, Code.CLOSED, path);
        assertFails(() -> idx.remove(key16(1)), state, Code.CLOSED, path);
        assertFails(idx::size, state, Code.CLOSED, path);
        assertFails(() -> idx.iterator(new Random(1)), state, Code.CLOSED, path);
        assertFails(it::hasNext, state, Code.CLOSED, path);
        assertFails(it::next, state, Code.CLOSED, path);
        assertFails(idx::finishGrowth, state, Code.CLOSED, path);
        assertFails(idx::sync, state, Code.CLOSED, path);
        assertFails(idx::inspect, state, Code.CLOSED, path);
        assertFails(idx::verify, state, Code.CLOSED, path);
        assertThat(idx.path()).isEqualTo(path);
    }

    @Test
    void writesOnAReadOnlyOpenFailWithReadOnlyAndChangeNothing() {
        createWithEntries();
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            assertThat(ro.isReadOnly()).isTrue();
            Class<HashIndexException.State> state = HashIndexException.State.class;
            assertFails(() -> ro.put(key16(1), value16(1, 9)), state, Code.READ_ONLY, path, "read-only");
            assertFails(() -> ro.put(key16(-1), value16(1, 9)), state, Code.READ_ONLY, path);
            assertFails(() -> ro.remove(key16(1)), state, Code.READ_ONLY, path);
            assertFails(ro::finishGrowth, state, Code.READ_ONLY, path);
            assertHoldsTheEntries(ro);
        }
    }

    @Test
    void createOverAnExistingFileIsRefusedAndLeavesItAlone() throws IOException {
        createWithEntries();
        byte[] before = Files.readAllBytes(path);
        assertFails(() -> HashIndex.create(path, Options.widths(16, 16)), HashIndexException.State.class,
                Code.INVALID_ARGUMENT, path, "already exists");
        assertThat(Files.readAllBytes(path)).isEqualTo(before);
        try (HashIndex idx = HashIndex.open(path)) {
            assertHoldsTheEntries(idx);
        }
    }

    @Test
    void openingAMissingFileIsRefusedAndCreatesNothing() {
        assertFails(() -> HashIndex.open(path), HashIndexException.State.class, Code.INVALID_ARGUMENT, path,
                "no such file");
        assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.State.class, Code.INVALID_ARGUMENT, path,
                "no such file");
        assertThat(path).doesNotExist();
    }

    @Test
    void openingADirectoryIsRefusedAsNotAnIndexFile() {
        assertFails(() -> HashIndex.open(dir), HashIndexException.State.class, Code.INVALID_ARGUMENT, dir,
                "is a directory");
        assertFails(() -> HashIndex.openReadOnly(dir), HashIndexException.State.class, Code.INVALID_ARGUMENT, dir,
                "is a directory");
    }

    @Test
    void createInAMissingDirectoryIsRefusedNamingTheDirectory() {
        Path missing = dir.resolve("no-such-dir").resolve("index.hidx");
        assertFails(() -> HashIndex.create(missing, Options.widths(16, 16)), HashIndexException.State.class,
                Code.INVALID_ARGUMENT, missing, "directory", "does not exist");
        assertThat(missing.getParent()).doesNotExist();
    }

    @Test
    void aBadChunkSizeIsRefusedAtCreateAndLeavesNoFile() {
        assertFails(() -> HashIndex.create(path, Options.widths(16, 16).chunkSize(5000)), HashIndexException.State.class,
                Code.INVALID_ARGUMENT, path, "chunk size 5000");
        assertThat(path).doesNotExist();
        assertFails(() -> HashIndex.create(path, Options.widths(100, 1000).chunkSize(4096)), HashIndexException.State.class,
                Code.INVALID_ARGUMENT, path, "chunk size 4096");
        assertThat(path).doesNotExist();
    }

    @Test
    void widthsOutsideTheirRangesAreRefused() {
        for (Runnable bad : List.<Runnable>of(
                () -> Options.widths(-1, 1),
                () -> Options.widths(Options.MAX_KEY_WIDTH + 1, 1),
                () -> Options.widths(1, Options.MAX_VALUE_WIDTH + 1),
                () -> Options.widths(1, 1).expectedEntries(-1))) {
            assertThatThrownBy(bad::run).isInstanceOfSatisfying(HashIndexException.State.class,
                    e -> assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT));
        }
    }

    // ---------------------------------------------------------------- file surgery

    private void truncate(long size) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
        assertThat(Files.size(path)).isEqualTo(size);
    }

    private static void flip(ByteBuffer page, int offset) {
        page.put(offset, (byte) ~page.get(offset));
    }

    /** Reads the 4096-byte header page, lets {@code change} edit it (little-endian), writes it back. */
    private void patchHeaderPage(Consumer<ByteBuffer> change) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer page = ByteBuffer.allocate((int) MappedFile.DATA_START).order(ByteOrder.LITTLE_ENDIAN);
            while (page.hasRemaining() && ch.read(page, page.position()) > 0) {
                // read the whole header page
            }
            change.accept(page);
            page.clear();
            while (page.hasRemaining()) {
                ch.write(page, page.position());
            }
        }
    }

    /** Sets a 4-byte field in both header copies and recomputes each copy's CRC32C, as a newer writer would. */
    private void patchBothCopies(int fieldOffset, int value) throws IOException {
        patchHeaderPage(page -> {
            for (int base : new int[] {Header.COPY_A, Header.COPY_B}) {
                page.putInt(base + fieldOffset, value);
                CRC32C crc = new CRC32C();
                crc.update(page.array(), base, Header.CRC_OFFSET);
                page.putInt(base + Header.CRC_OFFSET, (int) crc.getValue());
            }
        });
    }
}
