package net.alknet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryCacheTest {

  @TempDir Path tmp;

  static Path jar(Path file, Map<String, String> entries) throws IOException {
    try (OutputStream out = Files.newOutputStream(file);
        ZipOutputStream zip = new ZipOutputStream(out)) {
      for (Map.Entry<String, String> e : entries.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    }
    return file;
  }

  static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void copiesTheLibrariesAtTheTopOfMetaInfNativeOnly() throws Exception {
    Path a =
        jar(
            tmp.resolve("a.jar"),
            Map.of(
                "META-INF/native/libnetty_a_x86_64.so", "library a",
                "META-INF/native/sub/libnested.so", "nested",
                "META-INF/native/README.txt", "not a library",
                "META-INF/native/.hidden.so", "hidden",
                "lib/liboutside.so", "outside",
                "io/netty/A.class", "class"));
    Path b = jar(tmp.resolve("b.jar"), Map.of("META-INF/native/libnetty_b.so", "library b"));
    Path notAJar = Files.writeString(tmp.resolve("classes.txt"), "x");
    String classPath =
        String.join(
            File.pathSeparator,
            a.toString(),
            tmp.resolve("missing.jar").toString(),
            notAJar.toString(),
            tmp.toString(),
            b.toString());
    Path target = tmp.resolve("cache/alknet/native-1");

    assertTrue(NativeLibraryCache.extract(classPath, target));

    assertEquals(List.of("libnetty_a_x86_64.so", "libnetty_b.so"), names(target));
    assertArrayEquals(
        "library a".getBytes(StandardCharsets.UTF_8),
        Files.readAllBytes(target.resolve("libnetty_a_x86_64.so")));
    assertEquals("library b", Files.readString(target.resolve("libnetty_b.so")));
    assertEquals(List.of("native-1"), names(target.getParent()), "a temporary directory was left");
  }

  @Test
  void aDirectoryThatExistsIsKept() throws Exception {
    Path a = jar(tmp.resolve("a.jar"), Map.of("META-INF/native/liba.so", "new"));
    Path target = Files.createDirectories(tmp.resolve("cache/native-2"));
    Files.writeString(target.resolve("liba.so"), "made by another run");

    assertFalse(NativeLibraryCache.extract(a.toString(), target));

    assertEquals("made by another run", Files.readString(target.resolve("liba.so")));
    assertEquals(List.of("native-2"), names(target.getParent()), "a temporary directory was left");
  }

  @Test
  void prepareDoesNothingWithoutThePropertyAndNeverThrows() throws Exception {
    String before = System.getProperty(NativeLibraryCache.PROPERTY);
    try {
      System.clearProperty(NativeLibraryCache.PROPERTY);
      NativeLibraryCache.prepare();

      // The parent is a file: the directory cannot be made; netty would extract as usual.
      Path file = Files.writeString(tmp.resolve("file"), "");
      System.setProperty(NativeLibraryCache.PROPERTY, file.resolve("native-3").toString());
      NativeLibraryCache.prepare();
      assertEquals("", Files.readString(file));

      // A directory made from this JVM's class path (its jars may have no native library).
      Path target = tmp.resolve("ok/native-4");
      System.setProperty(NativeLibraryCache.PROPERTY, target.toString());
      NativeLibraryCache.prepare();
      assertTrue(Files.isDirectory(target));
    } finally {
      if (before == null) {
        System.clearProperty(NativeLibraryCache.PROPERTY);
      } else {
        System.setProperty(NativeLibraryCache.PROPERTY, before);
      }
    }
  }
}
