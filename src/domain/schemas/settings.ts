import { Type, type Static } from '@sinclair/typebox';
import { HttpUrl, withoutDefaults } from './common.js';

export const SettingsFields = Type.Object(
  {
    global_fail_redirect_url: Type.Union([HttpUrl, Type.Null()], {
      default: null,
      description: 'Where visitors go when nothing else accepts their click; null = a blank page.',
    }),
  },
  { additionalProperties: false },
);
export const SettingsPatch = Type.Partial(withoutDefaults(SettingsFields), { additionalProperties: false });
export const Settings = Type.Composite([SettingsFields, Type.Object({ version: Type.Integer() })]);
export type Settings = Static<typeof Settings>;
