package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class ScopesTest {

  @Test
  void starGrantsEverything() {
    assertTrue(Scopes.grants(Set.of("*"), "admin"));
    assertTrue(Scopes.grants(Set.of("*"), "git:write"));
    assertTrue(Scopes.grants(Set.of("*"), "call:demo:x"));
  }

  @Test
  void exactAndPrefixMatch() {
    assertTrue(Scopes.grants(Set.of("git:read"), "git:read"));
    assertTrue(Scopes.grants(Set.of("git"), "git:read"));
    assertTrue(Scopes.grants(Set.of("git"), "git:write"));
    assertTrue(Scopes.grants(Set.of("call"), "call:demo"));
    assertTrue(Scopes.grants(Set.of("call:demo"), "call:demo:echo"));
    assertTrue(Scopes.grants(Set.of("dns", "msg"), "msg"));
  }

  @Test
  void noFalsePrefixMatch() {
    assertFalse(Scopes.grants(Set.of("git"), "gitx:read"));
    assertFalse(Scopes.grants(Set.of("git"), "gitx"));
    assertFalse(Scopes.grants(Set.of("call:demo"), "call:demox"));
    assertFalse(Scopes.grants(Set.of("call:demo"), "call"));
    assertFalse(Scopes.grants(Set.of("git:read"), "git"));
    assertFalse(Scopes.grants(Set.of("git:read"), "git:write"));
    assertFalse(Scopes.grants(Set.of("git:"), "git:read"));
  }

  @Test
  void denyByDefault() {
    assertFalse(Scopes.grants(Set.of(), "anonymous"));
    assertFalse(Scopes.grants(null, "dns"));
    assertFalse(Scopes.grants(Set.of("*"), null));
    assertFalse(Scopes.grants(Set.of("*"), ""));
    assertFalse(Scopes.grants(Set.of("anonymous"), "dns"));
  }

  @Test
  void parseListAndValidity() {
    assertEquals(Set.of("call", "git:read"), Scopes.parseList(" call , git:read,"));
    assertEquals(Set.of(), Scopes.parseList(""));
    assertEquals(Set.of("*"), Scopes.parseList("*"));
    assertThrows(IllegalArgumentException.class, () -> Scopes.parseList("a b"));
    assertThrows(IllegalArgumentException.class, () -> Scopes.parseList("git:*"));
    assertThrows(IllegalArgumentException.class, () -> Scopes.parseList("git::read"));
    assertEquals("call:demo", Scopes.call("demo"));
    assertTrue(Scopes.isValid(Scopes.SSH_FORWARD));
    assertFalse(Scopes.isValid("x".repeat(Scopes.MAX_LENGTH + 1)));
  }
}
