package io.hashidx.store.jcstress;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one index file of a jcstress JVM (jcstress forks a JVM per test), shared by every instance of
 * the test: each instance takes its own key from a ring of 2^16, so the two actors of an instance meet
 * on one bucket's sequence lock while other instances' keys make the file grow (from one bucket) in
 * the background. Values name their key and the write that stored them, and have different lengths,
 * so a torn value, one read with the wrong length, or another key's value is recognised.
 */
final class SharedIndex {
    static final int RING = 1 << 16;
    static final HashIndex INDEX = open();
    private static final AtomicInteger NEXT = new AtomicInteger();

    private SharedIndex() {
    }

    private static HashIndex open() {
        try {
            Path dir = Files.createTempDirectory("hashidx-jcstress");
            Path path = dir.resolve("shared.hidx");
            HashIndex idx = HashIndex.create(path, Options.widths(8, 24).seed(1));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    idx.close();
                    Files.deleteIfExists(path);
                    Files.deleteIfExists(dir);
                } catch (IOException | RuntimeException ignored) {
                    // a temporary file left behind is not worth failing the run for
                }
            }));
            return idx;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int nextKey() {
        return NEXT.getAndIncrement() & (RING - 1);
    }

    static byte[] key(int k) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(k).putInt(~k).array();
    }

    /** Write {@code g} (1, 2 or 3) of key {@code k}: {@code (k, g)} repeated, 8, 16 or 24 bytes long. */
    static byte[] value(int k, int g) {
        ByteBuffer b = ByteBuffer.allocate(8 * g).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            b.putInt(k).putInt(g);
        }
        return b.array();
    }

    /** Which write of key {@code k} a value read is (1..3), 0 for none, -1 when torn or not key k's. */
    static int write(int k, byte[] v) {
        if (v == null) {
            return 0;
        }
        if (v.length == 0 || v.length % 8 != 0) {
            return -1;
        }
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        int g = b.getInt(4);
        if (v.length != 8 * g) {
            return -1;
        }
        for (int i = 0; i < v.length; i += 8) {
            if (b.getInt(i) != k || b.getInt(i + 4) != g) {
                return -1;
            }
        }
        return g;
    }
}
