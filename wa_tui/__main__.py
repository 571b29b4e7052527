from wa_tui.cli import main

raise SystemExit(main())
