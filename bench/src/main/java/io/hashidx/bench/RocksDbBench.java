package io.hashidx.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * The workloads on RocksDB (rocksdbjni). It loads its JNI library with {@code System.load};
 * {@code --enable-native-access=ALL-UNNAMED} only keeps the JDK from warning about that (JEP 472).
 */
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RocksDbBench extends Workloads {
}
