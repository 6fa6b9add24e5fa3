/** Who this app is for: filled in when the scaffold was rendered by Startup Factory. */
export const startup = {
  name: {{ startup.name | dump }},
  displayName: {{ startup.displayName | dump }},
  tagline: {{ (parameters.tagline or startup.idea | truncate(120, true, '…')) | dump }},
  industry: {{ startup.industry | dump }},
  category: {{ startup.category | dump }},
  idea: {{ startup.idea | dump }},
  founder: {{ startup.founder.name | dump }},
  primaryColor: {{ parameters.primaryColor | dump }},
} as const;

