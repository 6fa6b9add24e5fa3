// fengari ships no types: only what test/support/argocd-health.ts calls.
declare module 'fengari' {
  type State = { readonly __lua_State: unique symbol };
  type LuaString = Uint8Array;
  const fengari: {
    to_luastring(s: string): LuaString;
    lua: {
      LUA_OK: number;
      lua_pushnil(L: State): void;
      lua_pushboolean(L: State, b: boolean): void;
      lua_pushinteger(L: State, n: number): void;
      lua_pushnumber(L: State, n: number): void;
      lua_pushstring(L: State, s: LuaString): void;
      lua_createtable(L: State, narr: number, nrec: number): void;
      lua_setfield(L: State, index: number, k: LuaString): void;
      lua_rawseti(L: State, index: number, i: number): void;
      lua_setglobal(L: State, name: LuaString): void;
      lua_getfield(L: State, index: number, k: LuaString): number;
      lua_istable(L: State, index: number): boolean;
      lua_isstring(L: State, index: number): boolean;
      lua_tojsstring(L: State, index: number): string;
      lua_pcall(L: State, nargs: number, nresults: number, msgh: number): number;
      lua_pop(L: State, n: number): void;
    };
    lauxlib: {
      luaL_newstate(): State;
      luaL_loadstring(L: State, s: LuaString): number;
    };
    lualib: {
      luaL_openlibs(L: State): void;
    };
  };
  export default fengari;
}
