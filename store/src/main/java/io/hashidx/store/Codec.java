package io.hashidx.store;

import java.util.UUID;

/**
 * Turns values of type {@code T} into the bytes an index stores, and back, for
 * {@link HashIndex#asMap(Codec, Codec)}. Two values are the same key (or value) exactly when their
 * encodings are the same bytes, so {@link #equal} and {@link #hash} must agree with the encoding: the
 * defaults ({@code equals}, {@code hashCode}) do for the codecs of this interface except
 * {@link #bytes()}, which compares arrays by content.
 *
 * <p>A codec must be thread-safe. {@code decode} throws IllegalArgumentException for bytes that are not
 * an encoding of a {@code T} (the map view reports that as an index opened with the wrong codec), and
 * {@code encode} for a value that has no encoding.
 */
public interface Codec<T> {
    /** The bytes stored for {@code value} (never null). */
    byte[] encode(T value);

    /** The value whose encoding is {@code bytes}. */
    T decode(byte[] bytes);

    /** Whether {@code a} and {@code b} have the same encoding; by default {@code a.equals(b)}. */
    default boolean equal(T a, T b) {
        return a.equals(b);
    }

    /** A hash code consistent with {@link #equal}; by default {@code value.hashCode()}. */
    default int hash(T value) {
        return value.hashCode();
    }

    /** Strings as UTF-8; a string with an unpaired surrogate has no encoding (IllegalArgumentException). */
    static Codec<String> utf8() {
        return Codecs.UTF8;
    }

    /** Longs as 8 bytes, big-endian (so the bytes sort as the unsigned values do). */
    static Codec<Long> int64() {
        return Codecs.INT64;
    }

    /** Integers as 4 bytes, big-endian. */
    static Codec<Integer> int32() {
        return Codecs.INT32;
    }

    /** Byte arrays as themselves, compared and hashed by content ({@link java.util.Arrays#equals(byte[], byte[])}); copied both ways. */
    static Codec<byte[]> bytes() {
        return Codecs.BYTES;
    }

    /** UUIDs as 16 bytes, big-endian: the most significant long, then the least significant one. */
    static Codec<UUID> uuid() {
        return Codecs.UUIDS;
    }
}
