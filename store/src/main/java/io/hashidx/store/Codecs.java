package io.hashidx.store;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;

/** The codecs that {@link Codec} offers. */
final class Codecs {
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    static final Codec<String> UTF8 = new Codec<>() {
        @Override
        public byte[] encode(String value) {
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    throw new IllegalArgumentException("the string has an unpaired surrogate at index " + i
                            + " and so no UTF-8 encoding");
                }
            }
            return value.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String decode(byte[] bytes) {
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("not UTF-8 (" + e + ")");
            }
        }

        @Override
        public String toString() {
            return "Codec.utf8()";
        }
    };

    static final Codec<Long> INT64 = new Codec<>() {
        @Override
        public byte[] encode(Long value) {
            byte[] b = new byte[Long.BYTES];
            LONG_BE.set(b, 0, (long) value);
            return b;
        }

        @Override
        public Long decode(byte[] bytes) {
            checkLength(bytes, Long.BYTES, "a Long");
            return (long) LONG_BE.get(bytes, 0);
        }

        @Override
        public String toString() {
            return "Codec.int64()";
        }
    };

    static final Codec<Integer> INT32 = new Codec<>() {
        @Override
        public byte[] encode(Integer value) {
            byte[] b = new byte[Integer.BYTES];
            INT_BE.set(b, 0, (int) value);
            return b;
        }

        @Override
        public Integer decode(byte[] bytes) {
            checkLength(bytes, Integer.BYTES, "an Integer");
            return (int) INT_BE.get(bytes, 0);
        }

        @Override
        public String toString() {
            return "Codec.int32()";
        }
    };

    static final Codec<byte[]> BYTES = new Codec<>() {
        @Override
        public byte[] encode(byte[] value) {
            return value.clone();
        }

        @Override
        public byte[] decode(byte[] bytes) {
            return bytes.clone();
        }

        @Override
        public boolean equal(byte[] a, byte[] b) {
            return Arrays.equals(a, b);
        }

        @Override
        public int hash(byte[] value) {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "Codec.bytes()";
        }
    };

    static final Codec<UUID> UUIDS = new Codec<>() {
        @Override
        public byte[] encode(UUID value) {
            byte[] b = new byte[16];
            LONG_BE.set(b, 0, value.getMostSignificantBits());
            LONG_BE.set(b, 8, value.getLeastSignificantBits());
            return b;
        }

        @Override
        public UUID decode(byte[] bytes) {
            checkLength(bytes, 16, "a UUID");
            return new UUID((long) LONG_BE.get(bytes, 0), (long) LONG_BE.get(bytes, 8));
        }

        @Override
        public String toString() {
            return "Codec.uuid()";
        }
    };

    private Codecs() {
    }

    private static void checkLength(byte[] bytes, int expected, String what) {
        if (bytes.length != expected) {
            throw new IllegalArgumentException(what + " is " + expected + " bytes, not " + bytes.length);
        }
    }
}
