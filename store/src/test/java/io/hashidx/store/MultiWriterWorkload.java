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
 * at most one write in flight per thread. With a fifth argument {@code variable} the file is a
 * variable-length one (inline widths 16/16), and a third of the keys and about half of the values are
 * longer than that, so writes take and free records ({@link #key(int, int, boolean)}, {@link #value(int, int, int, boolean)}).
 */
public final class MultiWriterWorkload {
    static final int KEYS = 2_000;

    private MultiWriterWorkload() {
    }

    static byte[] key(int thread, int k) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(thread).putInt(k).array();
    }

    static byte[] value(int thread, int k, int serial) {
        return value(thread, k, serial, false);
    }

    /** A key of a variable-length run: one in three is 28 to 40 bytes long (out of line). */
    static byte[] key(int thread, int k, boolean variable) {
        byte[] key = key(thread, k);
        if (!variable || k % 3 != 0) {
            return key;
        }
        byte[] longer = java.util.Arrays.copyOf(key, 28 + k % 13);
        for (int i = 8; i < longer.length; i++) {
            longer[i] = (byte) (thread * 31 + k * 7 + i);
        }
        return longer;
    }

    /**
     * The value of a write: serial, thread, key and ~serial, 4 to 16 bytes; in a variable-length run also
     * 17 to 40 bytes (serial % 5 == 1) or 100 to 2,000 bytes (serial % 5 == 0), every byte past the 16th
     * depending on thread, key and serial.
     */
    static byte[] value(int thread, int k, int serial, boolean variable) {
        int pick = Math.floorMod(serial, 5);
        int length = !variable || pick > 1 ? 4 + Math.floorMod(serial, 13)
                : pick == 1 ? 17 + Math.floorMod(serial, 24) : 100 + Math.floorMod(serial * 7, 1_901);
        ByteBuffer b = ByteBuffer.allocate(Math.max(16, length)).order(ByteOrder.LITTLE_ENDIAN).putInt(serial)
                .putInt(thread).putInt(k).putInt(~serial);
        for (int i = 16; i < length; i++) {
            b.put(i, (byte) (serial * 13 + thread * 5 + k * 3 + i));
        }
        return java.util.Arrays.copyOf(b.array(), length);
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        int firstSerial = Integer.parseInt(args[3]);
        boolean variable = args.length > 4 && args[4].equals("variable");
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
        HashIndex idx = Files.exists(path) ? HashIndex.open(path)
                : HashIndex.create(path, (variable ? Options.variableLengths() : Options.widths(8, 16)).seed(seed));
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
                        idx.remove(key(thread, k, variable));
                    } else {
                        idx.put(key(thread, k, variable), value(thread, k, serial, variable));
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
