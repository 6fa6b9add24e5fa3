import 'package:flutter/material.dart';

import 'startup.dart';

class HomePage extends StatelessWidget {
  const HomePage({super.key});

  @override
  Widget build(BuildContext context) {
    final theme = Theme.of(context);
    return Scaffold(
      appBar: AppBar(title: const Text(Startup.displayName)),
      body: ListView(
        padding: const EdgeInsets.all(24),
        children: [
          Image.asset('assets/icon.png', width: 64, height: 64, alignment: Alignment.centerLeft),
          const SizedBox(height: 24),
          Text(Startup.displayName, style: theme.textTheme.headlineLarge),
          const SizedBox(height: 8),
          Text(Startup.tagline, style: theme.textTheme.titleMedium),
          const SizedBox(height: 32),
          const ListTile(title: Text('Industry'), subtitle: Text(Startup.industry)),
          const ListTile(title: Text('Category'), subtitle: Text(Startup.category)),
          const ListTile(title: Text('Founder'), subtitle: Text(Startup.founder)),
        ],
      ),
    );
  }
}
