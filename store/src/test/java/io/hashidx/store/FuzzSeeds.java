package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The small, valid files that {@link CorruptFileFuzzTest} damages: built the same way on every run
 * (fixed hash seeds, fixed keys), so a fuzzer input, which only describes edits, always means the
 * same damaged file. Each seed is cut after its last allocated cell (what lies beyond is unused
 * zeros), which keeps them a few KiB to a few hundred KiB.
 */
final class FuzzSeeds {
    private FuzzSeeds() {
    }

    /**
     * One seed file and what the edits need to know about its layout.
     *
     * @param cellOffsets file offset of every allocated cell
     * @param keys        keys that were put (some later removed), each at most {@code keyWidth} bytes
     */
    record Seed(String name, byte[] bytes, int keyWidth, int valueWidth, int keyLengthBytes,
                int valueLengthBytes, int slotSize, int stride, long[] cellOffsets, List<byte[]> keys) {

        int cells() {
            return cellOffsets.length;
        }

        /** File offset of slot {@code slot}'s key length in cell {@code cell}. */
        long slotOffset(int cell, int slot) {
            return cellOffsets[cell] + BucketLayout.SLOTS_OFFSET + (long) slot * slotSize;
        }

        /** File offset of slot {@code slot}'s value length in cell {@code cell}. */
        long valueLengthOffset(int cell, int slot) {
            return slotOffset(cell, slot) + keyLengthBytes + keyWidth;
        }
    }

    /** Builds every seed in {@code dir}; the order is part of the meaning of the corpus inputs. */
    static List<Seed> build(Path dir) {
        List<Seed> seeds = new ArrayList<>();
        // 0: a new file, one empty bucket
        seeds.add(seed(dir, "empty", Options.widths(8, 16).seed(1), (idx, keys) -> {
        }));
        // 1: a few entries in the one bucket, one removed (an empty_one slot), one overwritten (journal used)
        seeds.add(seed(dir, "few", Options.widths(8, 16).seed(2), (idx, keys) -> {
            for (long id = 0; id < 6; id++) {
                put(idx, keys, id, id);
            }
            idx.remove(Fixtures.key8(2));
            idx.put(Fixtures.key8(4), Fixtures.value16Varying(4, 99));
        }));
        // 2: in the middle of a doubling, overflow chains in both arrays, 8 KiB chunks (32 cells each)
        seeds.add(seed(dir, "mid-growth", Options.widths(8, 16).seed(3).chunkSize(8192), (idx, keys) -> {
            Header h = idx.table().h;
            long id = 0;
            while (!(h.growing() && h.evacuated >= 3 && h.evacuated + 3 < h.oldBucketCount
                    && h.oldOverflowPages > 0 && h.overflowPages > 0)) {
                put(idx, keys, id, id);
                id++;
            }
            idx.remove(Fixtures.key8(1));
            idx.closeLeavingGrowth();
        }));
        // 3: grown through several doublings, then thinned out: freed old arrays (free runs with chains hanging off)
        seeds.add(seed(dir, "free-runs", Options.widths(8, 16).seed(4), (idx, keys) -> {
            for (long id = 0; id < 300; id++) {
                put(idx, keys, id, id);
            }
            for (long id = 0; id < 300; id += 3) {
                idx.remove(Fixtures.key8(id));
            }
            idx.finishGrowth();
            idx.close();
            assertThat(idx.table().h.freeRoot).as("free list").isNotEqualTo(BucketLayout.NONE);
        }));
        // 4: presized: the overflow reserve is one free run
        seeds.add(seed(dir, "presized", Options.widths(8, 16).seed(5).expectedEntries(40), (idx, keys) -> {
            for (long id = 0; id < 30; id++) {
                put(idx, keys, id, id);
            }
        }));
        // 5: values up to 64 KiB: 4-byte value lengths
        seeds.add(seed(dir, "wide-values", Options.widths(4, 1 << 16).seed(6), (idx, keys) -> {
            for (long id = 0; id < 3; id++) {
                byte[] k = Arrays.copyOf(Fixtures.key8(id), 4);
                keys.add(k);
                idx.put(k, new byte[(int) (id * 1000)]);
            }
        }));
        return List.copyOf(seeds);
    }

    private interface Filler {
        void fill(HashIndex idx, List<byte[]> keys);
    }

    private static void put(HashIndex idx, List<byte[]> keys, long id, long op) {
        byte[] k = Fixtures.key8(id);
        keys.add(k);
        idx.put(k, Fixtures.value16Varying(id, op));
    }

    private static Seed seed(Path dir, String name, Options options, Filler filler) {
        Path path = dir.resolve("seed-" + name + ".hidx");
        List<byte[]> keys = new ArrayList<>();
        long[] cellOffsets;
        BucketLayout layout;
        try (HashIndex idx = HashIndex.create(path, options)) {
            filler.fill(idx, keys);
            layout = idx.table().layout;
        }
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            assertThat(idx.verify()).as("seed %s", name).isEmpty();
            Header h = idx.table().h;
            cellOffsets = new long[(int) h.allocatedCells];
            for (int c = 0; c < cellOffsets.length; c++) {
                cellOffsets[c] = layout.cellOffset(c);
            }
        }
        try {
            byte[] bytes = Files.readAllBytes(path);
            int used = (int) (cellOffsets[cellOffsets.length - 1] + layout.stride);
            return new Seed(name, Arrays.copyOf(bytes, used), layout.keyWidth, layout.valueWidth, layout.keyLengthBytes,
                    layout.valueLengthBytes, layout.slotSize, layout.stride, cellOffsets, List.copyOf(keys));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- little-endian stores into a file image that may have been cut short: writes past the end are dropped ----

    static void putByte(byte[] file, int length, long at, int value) {
        if (at >= 0 && at < length) {
            file[(int) at] = (byte) value;
        }
    }

    static void putInt(byte[] file, int length, long at, int value) {
        if (at >= 0 && at + 4 <= length) {
            ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putInt((int) at, value);
        }
    }

    static void putLong(byte[] file, int length, long at, long value) {
        if (at >= 0 && at + 8 <= length) {
            ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong((int) at, value);
        }
    }

    static long getLong(byte[] file, long at) {
        return ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong((int) at);
    }

    /** Stores a slot length of {@code bytes} bytes (1, 2 or 4), as the file's layout does. */
    static void putLength(byte[] file, int length, long at, int bytes, int value) {
        switch (bytes) {
            case 1 -> putByte(file, length, at, value);
            case 2 -> {
                putByte(file, length, at, value);
                putByte(file, length, at + 1, value >>> 8);
            }
            default -> putInt(file, length, at, value);
        }
    }
}
