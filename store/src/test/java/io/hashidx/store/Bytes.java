package io.hashidx.store;

import java.util.Arrays;
import java.util.HexFormat;

/** A byte string with value equality, for keys in model maps and sets; prints as hex. */
final class Bytes {
    private final byte[] b;

    Bytes(byte[] b) {
        this.b = b;
    }

    static Bytes of(byte[] b) {
        return new Bytes(b);
    }

    byte[] array() {
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes other && Arrays.equals(b, other.b);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(b);
    }

    @Override
    public String toString() {
        return hex(b);
    }

    static String hex(byte[] b) {
        return b == null ? "null" : "[" + b.length + "]" + HexFormat.of().formatHex(b);
    }
}
