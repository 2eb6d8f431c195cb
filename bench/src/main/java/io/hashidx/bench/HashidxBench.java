package io.hashidx.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * The workloads on hashidx. It needs no JVM flag; it runs with {@code --enable-native-access=ALL-UNNAMED}
 * as the {@code hashidx} launcher runs it, which lets the store reserve file space with fallocate(2)
 * and advise its mappings MADV_RANDOM (io.hashidx.store.Native); without the flag it writes zeros and
 * keeps the kernel's read-ahead.
 */
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class HashidxBench extends Workloads {
}
