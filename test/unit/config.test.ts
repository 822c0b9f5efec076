import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, publicUrlFor } from '../../src/config/index.js';

describe('configuration from the environment', () => {
  it.each([
    ['API_RATE_LIMIT_PER_MINUTE', '6e3'],
    ['CLICK_BATCH_MAX', '1e3'],
    ['PORT', '8080.5'],
    ['PORT', '1e3'],
    ['POSTBACK_CONCURRENCY', 'true'],
    ['HEAP_GROWING_PERCENT', 'false'],
    ['POSTBACK_ALLOW_LOOPBACK', 'yes'],
  ])('%s=%s is refused by name, not read as some other number', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('plain whole numbers (spaces around them allowed) and boolean words are read as such', () => {
    const config = loadConfig({ API_RATE_LIMIT_PER_MINUTE: ' 6000 ', PORT: '+8080', POSTBACK_ALLOW_LOOPBACK: '1' });
    expect([config.apiRateLimitPerMinute, config.port, config.postbackAllowLoopback]).toEqual([6000, 8080, true]);
    expect(['false', 'FALSE', '0'].map((v) => loadConfig({ POSTBACK_ALLOW_LOOPBACK: v }).postbackAllowLoopback)).toEqual([false, false, false]);
    expect(['True', 'TRUE'].map((v) => loadConfig({ POSTBACK_ALLOW_LOOPBACK: v }).postbackAllowLoopback)).toEqual([true, true]);
  });

  it('TRUST_PROXY takes addresses, CIDR ranges and range names, and names itself when an entry is none of those', () => {
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,::1, loopback' }).trustProxy).toBe('10.0.0.0/8, 192.168.1.7,::1, loopback');
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/255.0.0.0' }).trustProxy).toBe('10.0.0.0/255.0.0.0');
    for (const bad of ['10.0.0.0/33', 'proxy.example', '10.0.0.1,,', '10.0.0.0/255.0.0.0.0']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
    }
  });

  it('SWITCHYARD_ADMIN_KEY that no Bearer header could carry (a space, a trailing newline) is refused, naming itself', () => {
    expect(loadConfig({ SWITCHYARD_ADMIN_KEY: 'a-fine-admin-key-0123' }).adminKey).toBe('a-fine-admin-key-0123');
    for (const bad of ['correct horse battery staple', 'a-fine-admin-key-0123\n']) {
      expect(() => loadConfig({ SWITCHYARD_ADMIN_KEY: bad }), JSON.stringify(bad)).toThrow(/SWITCHYARD_ADMIN_KEY/);
    }
  });

  it.each([
    ['LOG_LEVEL', 'warning', /LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent/],
    ['SQLITE_SYNCHRONOUS', 'FULL', /SQLITE_SYNCHRONOUS: must be one of full, normal/],
    ['PUBLIC_URL', 'https://t.example/track', /PUBLIC_URL: must be an http:\/\/ or https:\/\/ origin without a path/],
  ])('%s=%s is refused with the values it accepts, not a schema message', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('PUBLIC_URL that is no usable origin (a port out of range, user info, a backslash) is refused, naming itself; a default port is dropped', () => {
    for (const bad of ['https://t.example:99999', 'https://user:secret@t.example', 'http://:8080', 'https://t.example\\track']) {
      expect(() => loadConfig({ PUBLIC_URL: bad }), bad).toThrow(/PUBLIC_URL: must be an http:\/\/ or https:\/\/ origin/);
    }
    expect(loadConfig({ PUBLIC_URL: 'https://t.example:8443/' }).publicUrl).toBe('https://t.example:8443');
    expect(loadConfig({ PUBLIC_URL: 'https://t.example:443' }).publicUrl).toBe('https://t.example');
  });

  it('without PUBLIC_URL, tracking links use the port the server listens on (PORT=0 picks it at start)', () => {
    const config = loadConfig({ PORT: '0' });
    expect(publicUrlFor(config, { address: '127.0.0.1', family: 'IPv4', port: 40725 })).toBe('http://localhost:40725');
    expect(publicUrlFor(loadConfig({ PORT: '0', PUBLIC_URL: 'https://t.example/' }), null)).toBe('https://t.example');
  });
});
