package {{ parameters.androidPackage }}

import io.flutter.embedding.android.FlutterActivity

class MainActivity : FlutterActivity()
