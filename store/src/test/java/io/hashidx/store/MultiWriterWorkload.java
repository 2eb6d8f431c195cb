package io.hashidx.store;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * The child of {@link MultiWriterKillTest}: {@code threads} writer threads, each putting and removing
 * keys of its own, on one index, until it is killed. Before each write a thread prints
 * {@code B thread key serial} (serial -1 for a remove), after it {@code A thread key serial growing}
 * (growing: 1 while a growth is under way, read from the published geometry without a lock); each
 * line reaches the pipe before the thread goes on, so the parent knows every acknowledged write and
 * at most one write in flight per thread.
 */
public final class MultiWriterWorkload {
    static final int KEYS = 2_000;

    private MultiWriterWorkload() {
    }

    static byte[] key(int thread, int k) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(thread).putInt(k).array();
    }

    static byte[] value(int thread, int k, int serial) {
        int length = 4 + serial % 13;
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(serial).putInt(thread).putInt(k)
                .putInt(~serial);
        return java.util.Arrays.copyOf(b.array(), length);
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        int firstSerial = Integer.parseInt(args[3]);
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
        HashIndex idx = Files.exists(path) ? HashIndex.open(path) : HashIndex.create(path, Options.widths(8, 16).seed(seed));
        out.println("OPEN");
        Thread[] writers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int thread = t;
            writers[t] = new Thread(() -> {
                SplittableRandom rnd = new SplittableRandom(seed * 31 + thread);
                for (int serial = firstSerial; ; serial++) {
                    int k = rnd.nextInt(KEYS);
                    boolean remove = rnd.nextInt(4) == 0;
                    out.println("B " + thread + " " + k + " " + (remove ? -1 : serial));
                    if (remove) {
                        idx.remove(key(thread, k));
                    } else {
                        idx.put(key(thread, k), value(thread, k, serial));
                    }
                    out.println("A " + thread + " " + k + " " + (remove ? -1 : serial) + " "
                            + (idx.table().geometry().growing() ? 1 : 0));
                }
            });
            writers[t].start();
        }
        for (Thread w : writers) {
            w.join();
        }
    }
}
