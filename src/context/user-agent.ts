import QuickLRU from 'quick-lru';
import UAParser from 'ua-parser-js';
import { isbot } from 'isbot';
import { BROWSER_FAMILIES, type ClickDevice, type DeviceType, type OperatingSystem } from '../domain/click.js';

/** What a user agent says about the device; `language` comes from another header. */
export type ParsedAgent = Omit<ClickDevice, 'language'> & { is_bot: boolean };

const UNKNOWN: ParsedAgent = Object.freeze({ os: null, os_version: null, device_type: null, browser: null, brand: null, is_bot: false });

// ua-parser names → the canonical values of SPEC §6. iPadOS reports itself as iOS or Mac OS.
const OS_NAMES: Readonly<Record<string, OperatingSystem>> = {
  iOS: 'iOS', Android: 'Android', Windows: 'Windows', 'Mac OS': 'macOS', macOS: 'macOS',
  'Chromium OS': 'ChromeOS', 'Chrome OS': 'ChromeOS',
};

/**
 * The Linux distributions ua-parser names, lower-cased without spaces: it reports each in the
 * spelling the user agent used (`Manjaro`, `manjaro`, `Red Hat`, `RedHat`).
 */
const LINUX_NAMES = new Set([
  'linux', 'ubuntu', 'kubuntu', 'xubuntu', 'lubuntu', 'nubuntu', 'debian', 'suse', 'opensuse', 'gentoo', 'arch', 'slackware',
  'fedora', 'mandriva', 'centos', 'pclinuxos', 'redhat', 'zenwalk', 'linpus', 'raspbian', 'deepin', 'manjaro', 'elementaryos',
  'sabayon', 'linspire', 'mint', 'mageia', 'vectorlinux',
]);

function canonicalOs(name: string): OperatingSystem {
  return OS_NAMES[name] ?? (LINUX_NAMES.has(name.toLowerCase().replace(/\s+/g, '')) ? 'Linux' : 'other');
}

const DESKTOP_OS = new Set(['Windows', 'macOS', 'Linux', 'ChromeOS']);

/**
 * An iPad asking for the desktop site sends a Mac user agent, but the iOS builds of Chrome,
 * Firefox, Edge and Opera, and in-app browsers (`Mobile/<build>`, `FBDV/iPad`), still name
 * themselves; no Mac browser does. Safari alone cannot be told from a Mac.
 */
const IPAD_AS_MAC = /\b(?:CriOS|FxiOS|EdgiOS|OPiOS)\/|\bMobile\/\w|FBDV\/iPad/;

function deviceType(parsedType: string | undefined, os: string | null): DeviceType | null {
  if (parsedType === 'mobile' || parsedType === 'tablet') return parsedType;
  if (parsedType !== undefined) return 'other'; // smart TVs, consoles, wearables, embedded
  // ua-parser leaves plain desktop browsers without a device type.
  if (os !== null && DESKTOP_OS.has(os)) return 'desktop';
  if (os === 'iOS' || os === 'Android') return 'mobile';
  return os === null ? null : 'other';
}

function parse(userAgent: string): ParsedAgent {
  const result = new UAParser(userAgent).getResult();
  const osName = result.os.name;
  // Its Mac version (frozen at 10.15.7) says nothing about the iPad's.
  const ipad = osName === 'Mac OS' && IPAD_AS_MAC.test(userAgent);
  const os = ipad ? 'iOS' : osName === undefined ? null : canonicalOs(osName);
  const browserName = result.browser.name;
  const bot = isbot(userAgent);
  return {
    os,
    os_version: os === null || ipad ? null : (result.os.version ?? null),
    device_type: bot ? 'bot' : ipad ? 'tablet' : deviceType(result.device.type, os),
    browser: browserName === undefined ? null : (BROWSER_FAMILIES[browserName] ?? browserName),
    brand: result.device.vendor ?? null,
    is_bot: bot,
  };
}

export interface UserAgentParser {
  parse(userAgent: string | null | undefined): ParsedAgent;
}

/**
 * Longest user agent the cache keeps. Real ones are a few hundred characters; a request header may
 * be 64 KiB, and the cache holding up to twice its size of those (QuickLRU keeps an old generation)
 * let anyone with a tracking link pin over a gigabyte of memory with distinct long agents.
 */
const MAX_CACHED_USER_AGENT_LENGTH = 1024;

/**
 * ua-parser-js (1.x, MIT) plus isbot behind an LRU cache: real traffic repeats a small set of
 * user agents, so most clicks skip the regular expressions entirely.
 */
export function createUserAgentParser(cacheSize = 10_000): UserAgentParser {
  const cache = new QuickLRU<string, ParsedAgent>({ maxSize: cacheSize });
  return {
    parse(userAgent) {
      if (!userAgent) return UNKNOWN;
      if (userAgent.length > MAX_CACHED_USER_AGENT_LENGTH) return Object.freeze(parse(userAgent));
      let parsed = cache.get(userAgent);
      if (parsed === undefined) {
        parsed = Object.freeze(parse(userAgent));
        cache.set(userAgent, parsed);
      }
      return parsed;
    },
  };
}
