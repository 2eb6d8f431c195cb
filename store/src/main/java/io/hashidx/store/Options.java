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

    /** Longest key and longest value a variable-length file takes, in bytes (16 MiB each). */
    public static final int MAX_VARIABLE_LENGTH = 16 << 20;
    /** Inline widths of {@link #variableLengths()}: keys and values up to 16 bytes live in the slot. */
    static final int DEFAULT_INLINE_KEY = 16;
    static final int DEFAULT_INLINE_VALUE = 16;
    /** Largest inline key width: the key length byte's value 255 marks an out-of-line entry. */
    public static final int MAX_INLINE_KEY = 254;

    static final long DEFAULT_CHUNK_SIZE = 1L << 30;

    private final int keyWidth;
    private final int valueWidth;
    private final boolean variable;
    private final long expectedEntries;
    private final Long seed;
    private final long chunkSize;

    private Options(int keyWidth, int valueWidth, long expectedEntries, Long seed, long chunkSize) {
        this(keyWidth, valueWidth, false, expectedEntries, seed, chunkSize);
    }

    private Options(int keyWidth, int valueWidth, boolean variable, long expectedEntries, Long seed, long chunkSize) {
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
        if (variable && (keyWidth > MAX_INLINE_KEY
                || keyWidth + BucketLayout.lengthBytes(valueWidth) + valueWidth < BucketLayout.OUT_OF_LINE_SIZE)) {
            throw HashIndexException.invalidArgument(null, "inline widths " + keyWidth + " and " + valueWidth
                    + " do not fit a variable-length slot: the inline key width is at most " + MAX_INLINE_KEY
                    + " bytes, and the key width, the value length field and the value width together hold at least "
                    + BucketLayout.OUT_OF_LINE_SIZE + " bytes (an out-of-line entry's reference)");
        }
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        this.variable = variable;
        this.expectedEntries = expectedEntries;
        this.seed = seed;
        this.chunkSize = chunkSize;
    }

    /** Options for a file whose keys are at most {@code keyWidth} and values at most {@code valueWidth} bytes. */
    public static Options widths(int keyWidth, int valueWidth) {
        return new Options(keyWidth, valueWidth, 0, null, DEFAULT_CHUNK_SIZE);
    }

    /**
     * Options for a file whose keys and values have any length up to {@link #MAX_VARIABLE_LENGTH}:
     * keys and values up to 16 bytes live in the slot, longer entries out of line in record cells.
     */
    public static Options variableLengths() {
        return variableLengths(DEFAULT_INLINE_KEY, DEFAULT_INLINE_VALUE);
    }

    /**
     * Like {@link #variableLengths()}, with the slot holding keys up to {@code inlineKeyWidth} and values
     * up to {@code inlineValueWidth} bytes inline (an entry with a longer key or value goes out of line).
     */
    public static Options variableLengths(int inlineKeyWidth, int inlineValueWidth) {
        return new Options(inlineKeyWidth, inlineValueWidth, true, 0, null, DEFAULT_CHUNK_SIZE);
    }

    /** Presize for this many entries: loading that many performs no growth. */
    public Options expectedEntries(long n) {
        return new Options(keyWidth, valueWidth, variable, n, seed, chunkSize);
    }

    /** Fix the hash seed (default: random). Files with the same seed and the same puts have the same layout. */
    public Options seed(long seed) {
        return new Options(keyWidth, valueWidth, variable, expectedEntries, seed, chunkSize);
    }

    /** Mapping chunk size; tests use small chunks to exercise chunk boundaries. */
    Options chunkSize(long bytes) {
        return new Options(keyWidth, valueWidth, variable, expectedEntries, seed, bytes);
    }

    /** Whether keys and values have any length (the widths are then the inline widths). */
    public boolean variable() {
        return variable;
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
        return "Options[" + (variable ? "variable lengths, inline " : "") + "keyWidth=" + keyWidth + ", valueWidth=" + valueWidth + ", expectedEntries="
                + expectedEntries + ", seed=" + (seed == null ? "random" : seed) + "]";
    }
}
