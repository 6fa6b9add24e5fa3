import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { renderBuiltin, STARTUPS } from './startups.ts';

/**
 * No Flutter SDK can build here, so fluttermobile gets a structural check: the files a
 * Flutter project needs are there, the pubspec parses and is a valid Flutter app, and
 * the Firebase parameters reach every platform's configuration.
 */
describe('fluttermobile', () => {
  const REQUIRED = [
    'pubspec.yaml', 'analysis_options.yaml', 'lib/main.dart', 'lib/firebase_options.dart', 'lib/home_page.dart', 'lib/startup.dart',
    'test/widget_test.dart', 'android/settings.gradle.kts', 'android/app/build.gradle.kts', 'android/app/google-services.json',
    'android/app/src/main/AndroidManifest.xml', 'ios/Runner/Info.plist', 'ios/Runner/GoogleService-Info.plist', 'ios/Runner/AppDelegate.swift',
    'ios/Podfile', 'web/index.html', 'web/manifest.json', 'assets/icon.png', 'firebase.json', '.firebaserc', 'Dockerfile',
    'k8s/kustomization.yaml', 'k8s/web.yaml', 'README.md',
  ];

  it('is a complete Flutter project with Firebase wired from the parameters', async () => {
    const started = performance.now();
    const { tree, context } = await renderBuiltin('fluttermobile');
    console.log(`[scaffold fluttermobile] render ${((performance.now() - started) / 1000).toFixed(2)}s, ${tree.size} files`);
    const text = (path: string) => tree.get(path)?.toString('utf8') ?? '';
    for (const path of REQUIRED) expect(tree.has(path), path).toBe(true);

    const pubspec = YAML.parse(text('pubspec.yaml'));
    expect(pubspec.name).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(pubspec.name).toBe(context.startup.identifier);
    expect(pubspec.environment.sdk).toMatch(/^\^3\./);
    expect(pubspec.dependencies.flutter).toEqual({ sdk: 'flutter' });
    expect(pubspec.dependencies.firebase_core).toMatch(/^\^\d+\.\d+\.\d+$/);
    for (const asset of pubspec.flutter.assets) expect(tree.has(asset), asset).toBe(true);
    expect(tree.get('assets/icon.png')?.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');

    const firebase = STARTUPS.fluttermobile.values.firebase;
    const options = text('lib/firebase_options.dart');
    expect(options).toContain(`projectId = "${firebase.projectId}"`);
    expect(options.match(new RegExp(`apiKey: "${firebase.apiKey}"`, 'g'))).toHaveLength(3);
    expect(options).toContain(`iosBundleId: "${STARTUPS.fluttermobile.values.iosBundleId}"`);
    expect(text('lib/main.dart')).toContain('Firebase.initializeApp(options: DefaultFirebaseOptions.currentPlatform)');

    const services = JSON.parse(text('android/app/google-services.json'));
    expect(services.project_info.project_id).toBe(firebase.projectId);
    expect(services.client[0].client_info.android_client_info.package_name).toBe(STARTUPS.fluttermobile.values.androidPackage);
    expect(text('android/app/build.gradle.kts')).toContain(`applicationId = "${STARTUPS.fluttermobile.values.androidPackage}"`);
    expect(text('ios/Runner/GoogleService-Info.plist')).toContain(`<string>${firebase.projectId}</string>`);
    expect(JSON.parse(text('.firebaserc')).projects.default).toBe(firebase.projectId);
    expect(JSON.parse(text('web/manifest.json')).name).toBe(context.startup.displayName);
    expect(text('lib/startup.dart')).toContain(`static const displayName = "${context.startup.displayName}";`);
    expect(text('nginx.conf')).toContain(`listen ${context.services.web?.port};`);
  });
});
