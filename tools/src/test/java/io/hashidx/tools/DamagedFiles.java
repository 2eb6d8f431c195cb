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
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Damages an index file on purpose, at offsets computed here from FORMAT.md (the tests know the
 * format; the tools do not).
 */
final class DamagedFiles {
    // FORMAT.md section 2: header copy fields (copy A at 0, copy B at 512); section 4: live area
    static final int COPY_B = 512;
    static final int CHUNK_SIZE = 40;
    static final int BUCKET_STRIDE = 48;
    static final int BUCKET_COUNT = 56;
    static final int BUCKETS_CELL = 64;
    static final int ALLOCATED_CELLS = 128;
    static final int LIVE_COUNT = 1024;
    static final int DATA_START = 4096;
    // FORMAT.md section 3: a cell starts with 8 tophash bytes, then the overflow link (next cell + 1)
    static final int OVERFLOW = 8;
    static final int SLOTS = 24;

    /** Entries of {@link #createSample}: key-0 .. key-99. */
    static final int SAMPLE_ENTRIES = 100;

    private final Path file;

    /** Creates {@code file} with 8-byte widths, seed 42 and keys key-i holding value-i; returns them. */
    static Map<String, String> createSample(Path file) {
        Map<String, String> entries = new TreeMap<>();
        try (HashIndex idx = HashIndex.create(file, Options.widths(8, 8).seed(42))) {
            for (int i = 0; i < SAMPLE_ENTRIES; i++) {
                idx.put(("key-" + i).getBytes(UTF_8), ("value-" + i).getBytes(UTF_8));
                entries.put("key-" + i, "value-" + i);
            }
        }
        return entries;
    }

    /** Every entry of an index file, as text. */
    static Map<String, String> contentOf(Path file) {
        Map<String, String> entries = new TreeMap<>();
        try (HashIndex idx = HashIndex.openReadOnly(file)) {
            for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(); it.hasNext(); ) {
                Map.Entry<byte[], byte[]> e = it.next();
                entries.put(new String(e.getKey(), UTF_8), new String(e.getValue(), UTF_8));
            }
        }
        return entries;
    }

    DamagedFiles(Path file) {
        this.file = file;
    }

    long readLong(long at) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.read(b, at);
        }
        return b.getLong(0);
    }

    int readInt(long at) throws IOException {
        return (int) readLong(at);
    }

    void write(long at, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), at);
        }
    }

    void writeLong(long at, long value) throws IOException {
        write(at, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value).array());
    }

    void flipBit(long at) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 1));
            ch.write(b.rewind(), at);
        }
    }

    void truncate(long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    long bucketCount() throws IOException {
        return readLong(BUCKET_COUNT);
    }

    long primaryCell(long bucket) throws IOException {
        return readLong(BUCKETS_CELL) + bucket;
    }

    long cellOffset(long cell) throws IOException {
        long stride = readInt(BUCKET_STRIDE) & 0xFFFFFFFFL;
        long chunk = readLong(CHUNK_SIZE);
        long perChunk = chunk / stride;
        return DATA_START + (cell / perChunk) * chunk + (cell % perChunk) * stride;
    }

    int stride() throws IOException {
        return readInt(BUCKET_STRIDE);
    }

    /** The first bucket from {@code from} on whose primary page has a live slot 0 and no overflow page. */
    long bucketWithoutOverflow(long from) throws IOException {
        long buckets = bucketCount();
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

    /** The first bucket whose primary page links to an overflow page. */
    long bucketWithOverflow() throws IOException {
        for (long b = 0; b < bucketCount(); b++) {
            if (readLong(cellOffset(primaryCell(b)) + OVERFLOW) != 0) {
                return b;
            }
        }
        throw new AssertionError("no bucket with an overflow page");
    }

    /** Live slots (tophash of 5 or more) in the primary page of {@code bucket}. */
    int liveSlots(long bucket) throws IOException {
        long tophash = readLong(cellOffset(primaryCell(bucket)));
        int live = 0;
        for (int i = 0; i < 8; i++) {
            if (((tophash >>> (8 * i)) & 0xFF) >= 5) {
                live++;
            }
        }
        return live;
    }

    void swapCells(long x, long y) throws IOException {
        int stride = stride();
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
