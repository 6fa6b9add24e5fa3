import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { startup } from '@/lib/startup';
import '@/lib/globals.css';
// Home page styles, shared with the Nuxt template (which cannot read CSS modules).
import '@/lib/home.css';

export const metadata: Metadata = {
  title: startup.displayName,
  description: startup.tagline,
  icons: { icon: '/icon.png' },
};

export default function RootLayout({ children }: Readonly<{ children: ReactNode }>) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
