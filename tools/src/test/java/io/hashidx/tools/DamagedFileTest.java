package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files damaged on purpose, at offsets computed here from FORMAT.md (the test knows the format; the
 * tool does not): verify names each problem, and neither verify nor inspect hangs or crashes.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DamagedFileTest {
    // FORMAT.md section 2: header copy fields (copy A at 0, copy B at 512); section 4: live area
    private static final int COPY_B = 512;
    private static final int CHUNK_SIZE = 40;
    private static final int BUCKET_STRIDE = 48;
    private static final int BUCKET_COUNT = 56;
    private static final int BUCKETS_CELL = 64;
    private static final int ALLOCATED_CELLS = 128;
    private static final int LIVE_COUNT = 1024;
    private static final int DATA_START = 4096;
    // FORMAT.md section 3: a cell starts with 8 tophash bytes, then the overflow link (next cell + 1)
    private static final int OVERFLOW = 8;
    private static final int ENTRIES = 100;

    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void create() {
        file = dir.resolve("d.hidx");
        try (HashIndex idx = HashIndex.create(file, Options.widths(8, 8).seed(42))) {
            for (int i = 0; i < ENTRIES; i++) {
                idx.put(("key-" + i).getBytes(UTF_8), ("value-" + i).getBytes(UTF_8));
            }
        }
        assertThat(Cli.run("verify", file.toString())).isEqualTo(new Cli(0, "ok\n", ""));
    }

    @Test
    void aFlippedBitInHeaderCopyAIsReportedAndTheFileStillReads() throws IOException {
        flipBit(BUCKET_COUNT);

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
        flipBit(COPY_B + BUCKET_COUNT);

        Cli verify = Cli.run("verify", file.toString());
        Cli inspect = Cli.run("inspect", file.toString());

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).isEqualTo("header copy B at file offset " + COPY_B + " is damaged (bad checksum or "
                + "fields); the other copy was used, and opening the file read-write rewrites both\n");
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(inspect.out()).containsPattern("header copy A +generation -?\\d+, valid\n")
                .containsPattern("header copy B +generation -?\\d+, damaged\n")
                .containsPattern("entries +" + ENTRIES + "\n");
        assertThat(Cli.run("get", file.toString(), "key-7")).isEqualTo(new Cli(0, "value-7\n", ""));
    }

    @Test
    void aFlippedBitInBothHeaderCopiesCannotBeReadAtAll() throws IOException {
        flipBit(BUCKET_COUNT);
        flipBit(COPY_B + BUCKET_COUNT);

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
        long bucket = bucketWithoutOverflow(0);
        long cell = primaryCell(bucket);
        writeLong(cellOffset(cell) + OVERFLOW, 1_000_000 + 1);

        Cli verify = Cli.run("verify", file.toString());
        Cli inspect = Cli.run("inspect", file.toString());
        Cli one = Cli.run("inspect", file.toString(), "--bucket", String.valueOf(bucket));

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).contains("bucket " + bucket + " overflow page linked from cell " + cell
                + " (file offset " + cellOffset(cell) + "): cell 1000000 is outside the ");
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(one.exitCode()).as(one.toString()).isZero();
        assertThat(one.out()).contains("overflow cell 1000000").contains("chain problem", "outside the");
    }

    @Test
    void anOverflowCycleIsReportedAndHangsNothing() throws IOException {
        long bucket = bucketWithoutOverflow(0);
        long cell = primaryCell(bucket);
        writeLong(cellOffset(cell) + OVERFLOW, cell + 1); // the bucket links to itself

        Cli verify = Cli.run("verify", file.toString());
        Cli inspect = Cli.run("inspect", "--json", file.toString());
        Cli one = Cli.run("inspect", "--json", file.toString(), "--bucket", String.valueOf(bucket));

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).contains("cell " + cell + " (file offset " + cellOffset(cell) + ") is used twice");
        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        assertThat(one.exitCode()).as(one.toString()).isZero();
        assertThat((String) one.json().get("chain_problem")).contains("links back to cell " + cell, "cycle");
        assertThat((List<?>) one.json().get("pages")).hasSize(1);
    }

    @Test
    void aKeyInTheWrongBucketIsNamed() throws IOException {
        long a = bucketWithoutOverflow(0);
        long b = bucketWithoutOverflow(a + 1);
        swapCells(primaryCell(a), primaryCell(b));

        Cli verify = Cli.run("verify", file.toString());

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.out()).contains("cell " + primaryCell(a) + " (file offset " + cellOffset(primaryCell(a))
                + ") slot 0: key belongs in bucket " + b + ", found in " + a);
    }

    @Test
    void aWrongLiveCountIsNamed() throws IOException {
        writeLong(LIVE_COUNT, ENTRIES + 5);

        Cli verify = Cli.run("verify", "--json", file.toString());

        assertThat(verify.exitCode()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.json()).containsEntry("ok", false)
                .containsEntry("problems", List.of("count is " + (ENTRIES + 5) + " but " + ENTRIES + " entries are "
                        + "reachable (live_count at file offset " + LIVE_COUNT + ")"));
    }

    // ---- the format, as FORMAT.md describes it ----

    private long readLong(long at) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.read(b, at);
        }
        return b.getLong(0);
    }

    private int readInt(long at) throws IOException {
        return (int) readLong(at);
    }

    private void writeLong(long at, long value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(b, at);
        }
    }

    private void flipBit(long at) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 1));
            ch.write(b.rewind(), at);
        }
    }

    private long primaryCell(long bucket) throws IOException {
        return readLong(BUCKETS_CELL) + bucket;
    }

    private long cellOffset(long cell) throws IOException {
        long stride = readInt(BUCKET_STRIDE) & 0xFFFFFFFFL;
        long chunk = readLong(CHUNK_SIZE);
        long perChunk = chunk / stride;
        return DATA_START + (cell / perChunk) * chunk + (cell % perChunk) * stride;
    }

    /** The first bucket from {@code from} on whose primary page has a live slot 0 and no overflow page. */
    private long bucketWithoutOverflow(long from) throws IOException {
        long buckets = readLong(BUCKET_COUNT);
        assertThat(readLong(ALLOCATED_CELLS)).isGreaterThan(buckets);
        for (long b = from; b < buckets; b++) {
            long at = cellOffset(primaryCell(b));
            int slot0 = (int) (readLong(at) & 0xFF);
            if (readLong(at + OVERFLOW) == 0 && slot0 >= 5) {
                return b;
            }
        }
        throw new AssertionError("no bucket without overflow from " + from);
    }

    private void swapCells(long x, long y) throws IOException {
        int stride = readInt(BUCKET_STRIDE);
        ByteBuffer bx = ByteBuffer.allocate(stride);
        ByteBuffer by = ByteBuffer.allocate(stride);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.read(bx, cellOffset(x));
            ch.read(by, cellOffset(y));
            ch.write(bx.flip(), cellOffset(y));
            ch.write(by.flip(), cellOffset(x));
        }
    }
}
