package io.hashidx.tools.torture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The keys, values and operation mix of a torture campaign, shared by the child that runs them and
 * the parent that checks them: key {@code id} and the value that operation number {@code op} put
 * under it are computed, never stored, so the parent's model is one number per key.
 */
final class Workload {
    /** Smallest key width: a key starts with its 8-byte id. */
    static final int MIN_KEY_WIDTH = 8;
    /** Out of 100 operations: puts of a new key below this, overwrites below {@link #OVERWRITE}, removes above. */
    static final int PUT_NEW = 45;
    static final int OVERWRITE = 80;

    private final int keyWidth;
    private final int valueWidth;
    /** Keys of 8..keyWidth bytes and values skewed toward the 16-byte inline widths, for variable-length files. */
    private final boolean variable;

    Workload(int keyWidth, int valueWidth, boolean variable) {
        if (keyWidth < MIN_KEY_WIDTH) {
            throw new IllegalArgumentException("key width " + keyWidth + " is below " + MIN_KEY_WIDTH);
        }
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        this.variable = variable;
    }

    /** The length of key {@code id}: the key width, or with variable lengths 8..keyWidth bytes. */
    private int keyLength(long id) {
        return variable ? MIN_KEY_WIDTH + (int) Math.floorMod(id * 0x9E3779B97F4A7C15L >>> 7, keyWidth - MIN_KEY_WIDTH + 1L)
                : keyWidth;
    }

    /**
     * The length of the value operation {@code op} puts under key {@code id}: 0..valueWidth; with
     * variable lengths, half of them within two bytes of the 16-byte inline width, a quarter up to
     * 16 bytes and a quarter up to valueWidth (records of one or more cells).
     */
    private int valueLength(long id, long op) {
        long mix = op * 7 + id;
        if (!variable) {
            return (int) Math.floorMod(mix, valueWidth + 1L);
        }
        long r = (op * 0x9E3779B97F4A7C15L + id) >>> 3;
        int pick = (int) Math.floorMod(r, 4L);
        long bound = switch (pick) {
            case 0, 1 -> 14 + Math.floorMod(r >>> 2, 5L);
            case 2 -> Math.floorMod(r >>> 2, 17L);
            default -> Math.floorMod(r >>> 2, valueWidth + 1L);
        };
        return (int) Math.min(bound, valueWidth);
    }

    int keyWidth() {
        return keyWidth;
    }

    int valueWidth() {
        return valueWidth;
    }

    /** Key {@code id}: the id little-endian, then filler bytes derived from it up to the key width. */
    byte[] key(long id) {
        byte[] k = new byte[keyLength(id)];
        ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN).putLong(0, id);
        long mix = id * 0x9E3779B97F4A7C15L;
        for (int i = MIN_KEY_WIDTH; i < k.length; i++) {
            k[i] = (byte) (mix >>> ((i & 7) * 8));
        }
        return k;
    }

    /** The id of a key made by {@link #key(long)}, or -1 when {@code key} is not one. */
    long id(byte[] key) {
        if (key.length < MIN_KEY_WIDTH) {
            return -1;
        }
        long id = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return id >= 0 && Arrays.equals(key, key(id)) ? id : -1;
    }

    /** The value operation {@code op} puts under key {@code id}: 0..valueWidth bytes, derived from both. */
    byte[] value(long id, long op) {
        int length = valueLength(id, op);
        byte[] v = new byte[length];
        SplittableRandom bytes = new SplittableRandom(op * 31 + id);
        bytes.nextBytes(v);
        return v;
    }
}
