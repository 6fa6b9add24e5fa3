import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fengari from 'fengari';
import { ARGOCD_HEALTH, chartDir } from '../../charts/sync.ts';

const { lua, lauxlib, lualib, to_luastring } = fengari;
type State = ReturnType<typeof lauxlib.luaL_newstate>;

export type ArgoHealth = { status: string; message: string };

/**
 * Runs the chart's Argo CD health script for `obj`'s kind the way Argo CD does: `obj` a
 * global table built from the object's JSON, the script's returned table read back.
 * Integers go in as Lua integers so that `..` prints them as gopher-lua does ("3", not "3.0").
 */
export async function argoHealth(obj: { kind: string } & Record<string, unknown>): Promise<ArgoHealth> {
  const script = ARGOCD_HEALTH.find((h) => (h.kinds as readonly string[]).includes(obj.kind));
  if (!script) throw new Error(`no Argo CD health script for kind ${obj.kind}`);
  const source = await readFile(join(chartDir, 'argocd', script.file), 'utf8');
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  push(L, obj);
  lua.lua_setglobal(L, to_luastring('obj'));
  if (lauxlib.luaL_loadstring(L, to_luastring(source)) !== lua.LUA_OK || lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) {
    throw new Error(`${script.file}: ${lua.lua_tojsstring(L, -1)}`);
  }
  if (!lua.lua_istable(L, -1)) throw new Error(`${script.file} returned no table`);
  return { status: field(L, 'status'), message: field(L, 'message') };
}

function field(L: State, name: string): string {
  lua.lua_getfield(L, -1, to_luastring(name));
  const value = lua.lua_isstring(L, -1) ? lua.lua_tojsstring(L, -1) : '';
  lua.lua_pop(L, 1);
  return value;
}

function push(L: State, value: unknown): void {
  if (value === null || value === undefined) lua.lua_pushnil(L);
  else if (typeof value === 'boolean') lua.lua_pushboolean(L, value);
  else if (typeof value === 'number') (Number.isInteger(value) ? lua.lua_pushinteger : lua.lua_pushnumber)(L, value);
  else if (typeof value === 'string') lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item, i) => {
      push(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    const entries = Object.entries(value as Record<string, unknown>);
    lua.lua_createtable(L, 0, entries.length);
    for (const [key, item] of entries) {
      push(L, item);
      lua.lua_setfield(L, -2, to_luastring(key));
    }
  }
}
