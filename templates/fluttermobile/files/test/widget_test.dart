import 'package:flutter/material.dart';
import 'package:flutter_test/flutter_test.dart';
import 'package:{{ startup.identifier }}/home_page.dart';
import 'package:{{ startup.identifier }}/startup.dart';

void main() {
  testWidgets('home page shows the startup', (tester) async {
    await tester.pumpWidget(const MaterialApp(home: HomePage()));
    expect(find.text(Startup.displayName), findsWidgets);
  });
}
