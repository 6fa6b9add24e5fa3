// Firebase configuration of {{ startup.displayName | dump }}, from the template's `firebase`
// parameters (project {{ parameters.firebase.projectId }}). Regenerate with
// `flutterfire configure --project={{ parameters.firebase.projectId }}` once the real
// Firebase project exists.
import 'package:firebase_core/firebase_core.dart' show FirebaseOptions;
import 'package:flutter/foundation.dart' show TargetPlatform, defaultTargetPlatform, kIsWeb;

class DefaultFirebaseOptions {
  static FirebaseOptions get currentPlatform {
    if (kIsWeb) return web;
    switch (defaultTargetPlatform) {
      case TargetPlatform.android:
        return android;
      case TargetPlatform.iOS:
        return ios;
      default:
        throw UnsupportedError('This app is configured for Android, iOS and web only.');
    }
  }

  static const String projectId = {{ parameters.firebase.projectId | dump }};

  static const FirebaseOptions android = FirebaseOptions(
    apiKey: {{ parameters.firebase.apiKey | dump | replace("$", "\\$") }},
    appId: {{ parameters.firebase.androidAppId | dump | replace("$", "\\$") }},
    messagingSenderId: {{ parameters.firebase.messagingSenderId | dump }},
    projectId: projectId,
    storageBucket: {{ parameters.firebase.storageBucket | dump | replace("$", "\\$") }},
  );

  static const FirebaseOptions ios = FirebaseOptions(
    apiKey: {{ parameters.firebase.apiKey | dump | replace("$", "\\$") }},
    appId: {{ parameters.firebase.iosAppId | dump | replace("$", "\\$") }},
    messagingSenderId: {{ parameters.firebase.messagingSenderId | dump }},
    projectId: projectId,
    storageBucket: {{ parameters.firebase.storageBucket | dump | replace("$", "\\$") }},
    iosBundleId: {{ parameters.iosBundleId | dump }},
  );

  static const FirebaseOptions web = FirebaseOptions(
    apiKey: {{ parameters.firebase.apiKey | dump | replace("$", "\\$") }},
    appId: {{ parameters.firebase.webAppId | dump | replace("$", "\\$") }},
    messagingSenderId: {{ parameters.firebase.messagingSenderId | dump }},
    projectId: projectId,
    authDomain: '{{ parameters.firebase.projectId }}.firebaseapp.com',
    storageBucket: {{ parameters.firebase.storageBucket | dump | replace("$", "\\$") }},
  );
}
