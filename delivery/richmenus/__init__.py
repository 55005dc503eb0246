"""Rich menus: the designer's menu sets (tabs linked by aliases), publishing them to LINE,
menus per segment linked per user, and the swap to the disaster menu and back."""
