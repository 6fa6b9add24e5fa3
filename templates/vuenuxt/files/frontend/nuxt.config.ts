// https://nuxt.com/docs/api/configuration/nuxt-config
export default defineNuxtConfig({
  compatibilityDate: '2026-01-01',
  css: ['~~/lib/globals.css', '~~/lib/home.css'],
  app: {
    head: {
      title: {{ startup.displayName | dump }},
      link: [{ rel: 'icon', type: 'image/png', href: '/icon.png' }],
    },
  },
  runtimeConfig: {
    // Server-side only; NUXT_API_URL overrides it (the Service `api` in the cluster).
    apiUrl: 'http://localhost:{{ services.api.port }}',
  },
  telemetry: false,
});
