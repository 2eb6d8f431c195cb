package io.hashidx.store;

import java.util.OptionalLong;

/**
 * How to create an index file: the fixed key and value widths (in bytes), an optional expected
 * entry count for presizing, and an optional hash seed.
 *
 * <pre>{@code
 * Options o = Options.widths(16, 16).expectedEntries(10_000_000);
 * try (HashIndex idx = HashIndex.create(path, o)) { ... }
 * }</pre>
 *
 * Options are immutable; every {@code with}-style method returns a new instance.
 */
public final class Options {
    /** Largest key width a file can have, in bytes. */
    public static final int MAX_KEY_WIDTH = 65_535;
    /** Largest value width a file can have, in bytes (16 MiB). */
    public static final int MAX_VALUE_WIDTH = 16 << 20;

    static final long DEFAULT_CHUNK_SIZE = 1L << 30;

    private final int keyWidth;
    private final int valueWidth;
    private final long expectedEntries;
    private final Long seed;
    private final long chunkSize;

    private Options(int keyWidth, int valueWidth, long expectedEntries, Long seed, long chunkSize) {
        if (keyWidth < 0 || keyWidth > MAX_KEY_WIDTH) {
            throw HashIndexException.invalidArgument(null,
                    "key width " + keyWidth + " is outside 0.." + MAX_KEY_WIDTH + " bytes");
        }
        if (valueWidth < 0 || valueWidth > MAX_VALUE_WIDTH) {
            throw HashIndexException.invalidArgument(null,
                    "value width " + valueWidth + " is outside 0.." + MAX_VALUE_WIDTH + " bytes");
        }
        if (expectedEntries < 0) {
            throw HashIndexException.invalidArgument(null, "expected entries must be >= 0, not " + expectedEntries);
        }
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        this.expectedEntries = expectedEntries;
        this.seed = seed;
        this.chunkSize = chunkSize;
    }

    /** Options for a file whose keys are at most {@code keyWidth} and values at most {@code valueWidth} bytes. */
    public static Options widths(int keyWidth, int valueWidth) {
        return new Options(keyWidth, valueWidth, 0, null, DEFAULT_CHUNK_SIZE);
    }

    /** Presize for this many entries: loading that many performs no growth. */
    public Options expectedEntries(long n) {
        return new Options(keyWidth, valueWidth, n, seed, chunkSize);
    }

    /** Fix the hash seed (default: random). Files with the same seed and the same puts have the same layout. */
    public Options seed(long seed) {
        return new Options(keyWidth, valueWidth, expectedEntries, seed, chunkSize);
    }

    /** Mapping chunk size; tests use small chunks to exercise chunk boundaries. */
    Options chunkSize(long bytes) {
        return new Options(keyWidth, valueWidth, expectedEntries, seed, bytes);
    }

    public int keyWidth() {
        return keyWidth;
    }

    public int valueWidth() {
        return valueWidth;
    }

    public long expectedEntries() {
        return expectedEntries;
    }

    public OptionalLong seed() {
        return seed == null ? OptionalLong.empty() : OptionalLong.of(seed);
    }

    long chunkSize() {
        return chunkSize;
    }

    @Override
    public String toString() {
        return "Options[keyWidth=" + keyWidth + ", valueWidth=" + valueWidth + ", expectedEntries="
                + expectedEntries + ", seed=" + (seed == null ? "random" : seed) + "]";
    }
}
