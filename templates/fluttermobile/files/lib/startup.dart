/// Who this app is for: filled in when the scaffold was rendered by Startup Factory.
class Startup {
  static const name = {{ startup.name | dump | replace("$", "\\$") }};
  static const displayName = {{ startup.displayName | dump | replace("$", "\\$") }};
  static const tagline = {{ (parameters.tagline or startup.idea | truncate(120, true, '…')) | dump | replace("$", "\\$") }};
  static const industry = {{ startup.industry | dump | replace("$", "\\$") }};
  static const category = {{ startup.category | dump | replace("$", "\\$") }};
  static const founder = {{ startup.founder.name | dump | replace("$", "\\$") }};
  static const primaryColor = 0xFF{{ parameters.primaryColor | replace("#", "") | upper }};
}
