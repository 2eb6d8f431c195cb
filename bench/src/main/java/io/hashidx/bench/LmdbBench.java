package io.hashidx.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * The workloads on LMDB through lmdbjava. Its default buffer proxy reads the address field of
 * direct buffers, so it needs {@code --add-opens java.base/java.nio=ALL-UNNAMED} and
 * {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (lmdbjava's README);
 * {@code --enable-native-access=ALL-UNNAMED} keeps the JDK from warning about its native library (jnr-ffi).
 */
@Fork(value = 1, jvmArgsAppend = {
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
        "--enable-native-access=ALL-UNNAMED"})
public class LmdbBench extends Workloads {
}
