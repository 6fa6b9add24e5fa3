import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // A self-contained server in .next/standalone: the container image needs no node_modules.
  output: 'standalone',
  poweredByHeader: false,
};

export default nextConfig;
