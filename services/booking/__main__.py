from services.booking.app import main

main()
